"""A webhook receiver on 127.0.0.1 that answers scripted statuses and records what it got."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Self

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

    @property
    def url(self) -> str:
        return self._server.base_url + "/hooks"

    def __enter__(self) -> Self:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
