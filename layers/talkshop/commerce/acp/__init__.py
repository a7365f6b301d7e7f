"""The merchant side of the Agentic Commerce Protocol (ACP): agent keys, checkout sessions, order
webhooks to agents. See docs/acp.md."""
