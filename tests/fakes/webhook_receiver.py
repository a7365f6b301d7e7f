"""A webhook receiver on 127.0.0.1 that answers scripted statuses and records what it got.

Endpoints on loopback are refused unless TALKSHOP_WEBHOOK_ALLOW_LOOPBACK says otherwise (the local
runtime's setting): the receiver sets it while it runs and puts the previous value back after.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Self

from talkshop.commerce.webhooks import ALLOW_LOOPBACK_VARIABLE
from tests.fakes.local_http import LocalHttpServer, QuietHandler


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """Answers each POST with the next scripted status (200 once the script is used up); a status
    of 302 redirects to /elsewhere on the same server."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = LocalHttpServer(Handler)
        self._allowed_before: str | None = None

    @property
    def url(self) -> str:
        return self._server.base_url + "/hooks"

    def __enter__(self) -> Self:
        self._allowed_before = os.environ.get(ALLOW_LOOPBACK_VARIABLE)
        os.environ[ALLOW_LOOPBACK_VARIABLE] = "true"
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
        if self._allowed_before is None:
            os.environ.pop(ALLOW_LOOPBACK_VARIABLE, None)
        else:
            os.environ[ALLOW_LOOPBACK_VARIABLE] = self._allowed_before
