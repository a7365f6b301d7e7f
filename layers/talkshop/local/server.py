"""`talkshop local`: an HTTP server on 127.0.0.1 that plays API Gateway in front of the handlers."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from talkshop.api.routes import CHAT_SWEEPER
from talkshop.errors import TalkshopError
from talkshop.local.apigateway import LocalLambdaContext
from talkshop.local.invoke import HttpResult, handler_for, invoke
from talkshop.local.runtime import LocalAws, demo_catalog_path
from talkshop.local.static import STATIC_PREFIX, static_file

MAX_BODY_BYTES = 6 * 1024 * 1024  # API Gateway's payload limit for Lambda proxy integrations
SWEEP_INTERVAL_S = 60  # the chat sweeper's schedule (every few minutes on AWS)
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NO_SUCH_FILE = HttpResult(404, {"Content-Type": "text/plain; charset=utf-8"}, b"No such file.")


class LocalGateway(ThreadingHTTPServer):
    daemon_threads = True
    # Connections wait in the listen queue while a request holds the lock: with socketserver's default
    # of 5, a burst of concurrent clients (many buyers at once, a benchmark) would be reset.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], aws: LocalAws, quiet: bool) -> None:
        super().__init__(address, GatewayRequestHandler)
        self.aws = aws
        self.quiet = quiet
        # One request at a time, like a single warm Lambda instance, and because moto's conditional
        # writes are not atomic across threads: this keeps them as strict as DynamoDB's. It is the
        # runtime's lock, which the state machines' Lambda steps take too.
        self.invocation_lock = aws.lock


class GatewayRequestHandler(BaseHTTPRequestHandler):
    server: LocalGateway
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(
                HttpResult(
                    413,
                    {"Content-Type": "application/json"},
                    json.dumps(
                        {"error": {"code": "payload_too_large", "message": "The body exceeds 6 MB."}}
                    ).encode(),
                )
            )
            return
        body = self.rfile.read(length) if length else None
        if url.path.startswith(STATIC_PREFIX) and self.command in ("GET", "HEAD"):
            self._send(static_file(url.path) or _NO_SUCH_FILE)
            return
        headers = dict(self.headers.items())
        with self.server.invocation_lock:
            result = invoke(self.command, url.path, query_string=url.query, headers=headers, body=body)
            if self.command not in READ_ONLY_METHODS:
                self.server.aws.persist()
        self._send(result)

    def _send(self, result: HttpResult) -> None:
        self.send_response(result.status)
        for name, value in result.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(result.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(result.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: object) -> None:
        if not self.server.quiet:
            sys.stderr.write(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n")


def sweep_idle_chats(gateway: LocalGateway) -> int:
    """One run of the chat_sweeper function, as its schedule invokes it on AWS, between requests."""
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    context = LocalLambdaContext(function_name=CHAT_SWEEPER.name, timeout_s=CHAT_SWEEPER.timeout_s)
    with gateway.invocation_lock:
        result = handler_for(CHAT_SWEEPER)(event, context)
        abandoned = int(result["abandoned"])
        if any(int(count) for count in result.values()):  # chats abandoned, checkouts finished
            gateway.aws.persist()
    return abandoned


def _sweep_periodically(gateway: LocalGateway, stopped: threading.Event) -> None:
    while not stopped.wait(SWEEP_INTERVAL_S):
        try:
            sweep_idle_chats(gateway)
        except Exception as error:  # the server keeps serving; the next run tries again
            sys.stderr.write(f"chat sweep failed: {error!r}\n")


class PortUnavailable(TalkshopError):
    code = "port_unavailable"


def serve(port: int, data_dir: Path, host: str = "127.0.0.1", quiet: bool = False) -> None:
    started = time.monotonic()
    aws = LocalAws(data_dir)
    aws.start()
    try:
        try:
            gateway = LocalGateway((host, port), aws, quiet)
        except OSError as error:
            raise PortUnavailable(f"Cannot listen on {host}:{port}: {error.strerror}.") from error
        if aws.fresh:
            from talkshop.api.context import catalog
            from talkshop.catalog.importer import CatalogImporter

            report = CatalogImporter(catalog()).import_file(demo_catalog_path())
            aws.persist()
            print(f"Loaded the demo catalog: {report.summary()}.", flush=True)

        def stop(signum: int, frame: FrameType | None) -> None:
            threading.Thread(target=gateway.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        bound_host, bound_port = gateway.server_address[:2]
        print(f"Admin key: {aws.admin_key}  ({aws.admin_key_source})", flush=True)
        print(
            f"Talkshop is running at http://{bound_host!s}:{bound_port} "
            f"(ready in {time.monotonic() - started:.1f}s). "
            f"Open http://{bound_host!s}:{bound_port}/chat in a browser. Ctrl-C stops it.",
            flush=True,
        )
        stopped = threading.Event()
        threading.Thread(target=_sweep_periodically, args=(gateway, stopped), daemon=True).start()
        gateway.serve_forever()
        stopped.set()
        gateway.server_close()
    finally:
        aws.stop()
        print("Talkshop stopped; data saved.", flush=True)
