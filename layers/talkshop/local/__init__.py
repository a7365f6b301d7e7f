"""The embedded local runtime: the Lambda handlers behind a local HTTP server, on moto-backed AWS."""
