"""`talkshop local` as a user runs it: a real process, real HTTP on 127.0.0.1, a data dir on disk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ADMIN_KEY = "e2e-admin-key-0123456789"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 20.0
READY = "is running at http://"
DEMO_LOADED = "Loaded the demo catalog"
LLM_VARIABLE_PREFIXES = ("ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_API_KEY", "GOOGLE_GEMINI_")


class Server:
    """One `talkshop local` process; its stdout and stderr are collected line by line."""

    def __init__(self, data_dir: Path, *extra: str, env: Mapping[str, str] | None = None) -> None:
        """``env`` is added to the inherited environment, from which AWS, Talkshop and LLM provider
        settings are removed (a developer's own API key must not turn the rules engine into an LLM)."""
        self.data_dir = data_dir
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AWS_", "TALKSHOP_", "POWERTOOLS_", *LLM_VARIABLE_PREFIXES))
        }
        environment.update({"TALKSHOP_ADMIN_KEY": ADMIN_KEY, "PYTHONUNBUFFERED": "1", **(env or {})})
        command = [sys.executable, "-m", "talkshop.cli", "local", "--port", "0", "--data-dir", str(data_dir)]
        self.process = subprocess.Popen(
            [*command, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
            cwd=data_dir.parent,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = ""

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_ready(self) -> Server:
        deadline = time.monotonic() + START_TIMEOUT_S
        with self._changed:
            while True:
                ready = [line for line in self.lines if READY in line]
                if ready:
                    address = ready[0].split(READY, 1)[1].split()[0]
                    self.url = "http://" + address
                    assert address.startswith("127.0.0.1:"), ready[0]
                    assert not address.endswith(":0"), (
                        "the server printed the requested port, not the bound one"
                    )
                    return self
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"talkshop local exited early:\n{self.output}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"talkshop local did not start in {START_TIMEOUT_S}s:\n{self.output}"
                    )
                self._changed.wait(min(remaining, 0.2))

    def wait_exit(self, timeout: float = STOP_TIMEOUT_S) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.wait_exit()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait_exit()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310 - 127.0.0.1
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - 127.0.0.1
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        return status, json.loads(payload) if payload else None

    def product_ids(self) -> list[str]:
        """Every active product, following the cursors."""
        ids: list[str] = []
        cursor = ""
        for _ in range(100):
            status, page = self.request("GET", f"/api/products?limit=40{cursor}")
            assert status == 200, page
            ids += [item["id"] for item in page["items"]]
            if not page["next_cursor"]:
                return ids
            cursor = f"&cursor={page['next_cursor']}"
        raise AssertionError("the listing never ended")


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server a test starts; whatever is still running at the end is killed."""
    started: list[Server] = []
    yield started
    for server in started:
        server.kill()


def start(servers: list[Server], data_dir: Path, *extra: str, env: Mapping[str, str] | None = None) -> Server:
    server = Server(data_dir, *extra, env=env)
    servers.append(server)
    return server.wait_ready()


def product(product_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": product_id,
        "name": f"E2E {product_id}",
        "brand": "Vantaro",
        "category": "padel-rackets",
        "creator_id": "padelnest",
        "price": 8995,
        "currency": "EUR",
        "stock": 3,
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the read-mostly checks, started with --quiet."""
    server = Server(tmp_path_factory.mktemp("shared") / "data", "--quiet")
    try:
        yield server.wait_ready()
    finally:
        server.kill()


def test_demo_catalog_a_write_and_a_clean_restart(servers: list[Server], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start(servers, data_dir)
    assert DEMO_LOADED in first.output
    demo = first.product_ids()
    assert len(demo) >= 80
    assert len(set(demo)) == len(demo)

    status, created = first.request("POST", "/api/products", product("e2e-restart"), key=ADMIN_KEY)
    assert status == 201, created
    assert created["version"] == 1

    assert first.stop() == 0, first.output
    assert "Talkshop stopped; data saved." in first.output
    assert "POST /api/products -> 201" in first.output  # without --quiet, requests are logged

    second = start(servers, data_dir)
    assert DEMO_LOADED not in second.output  # the demo catalog is imported once, into a new data dir
    status, fetched = second.request("GET", "/api/products/e2e-restart")
    assert status == 200, fetched
    assert (fetched["name"], fetched["version"]) == ("E2E e2e-restart", 1)
    after = second.product_ids()
    assert len(after) == len(demo) + 1
    assert set(after) == {*demo, "e2e-restart"}
    assert second.stop() == 0


def seeded_copy(running: Server, tmp_path: Path) -> Path:
    """A data dir holding the shared server's data (snapshot + fsynced journal), without its lock:
    starting on it skips the demo import."""
    data_dir = tmp_path / "data"
    shutil.copytree(running.data_dir / "dynamodb", data_dir / "dynamodb")
    return data_dir


def test_a_write_survives_kill_9(running: Server, servers: list[Server], tmp_path: Path) -> None:
    first = start(servers, seeded_copy(running, tmp_path))
    status, created = first.request("POST", "/api/products", product("e2e-durable"), key=ADMIN_KEY)
    assert status == 201, created
    status, _ = first.request(
        "PUT", "/api/products/e2e-durable", product("e2e-durable", price=100), key=ADMIN_KEY
    )
    assert status == 200
    first.kill()  # SIGKILL: no compaction, only what the journal fsynced before each answer

    second = start(servers, first.data_dir)
    assert DEMO_LOADED not in second.output
    status, fetched = second.request("GET", "/api/products/e2e-durable")
    assert status == 200, fetched
    assert (fetched["price"], fetched["version"]) == (100, 2)


def test_a_write_after_a_conflict_survives_kill_9(
    running: Server, servers: list[Server], tmp_path: Path
) -> None:
    first = start(servers, seeded_copy(running, tmp_path))
    assert first.request("POST", "/api/products", product("e2e-one"), key=ADMIN_KEY)[0] == 201
    status, error = first.request("POST", "/api/products", product("e2e-one"), key=ADMIN_KEY)
    assert status == 409, error
    assert first.request("POST", "/api/products", product("e2e-two"), key=ADMIN_KEY)[0] == 201
    first.kill()

    second = start(servers, first.data_dir)
    assert second.request("GET", "/api/products/e2e-one")[0] == 200
    assert second.request("GET", "/api/products/e2e-two")[0] == 200


def test_a_second_server_on_the_same_data_dir_is_refused(running: Server, servers: list[Server]) -> None:
    intruder = Server(running.data_dir)
    servers.append(intruder)
    code = intruder.wait_exit()
    assert code != 0
    assert "in use" in intruder.output
    assert READY not in intruder.output
    # The running server is unaffected.
    assert running.request("GET", "/api/products?limit=1")[0] == 200


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b'{"name": "broken', 400, "invalid_json"),
        (b"[1, 2", 400, "invalid_json"),
        (json.dumps(product("e2e-typo", colour_of_box="red")).encode(), 422, "unknown_fields"),
        (json.dumps(product("e2e-bad", price="cheap")).encode(), 422, "validation_error"),
        pytest.param(
            json.dumps(product("e2e-nan", attributes={"weight_g": float("nan")})).encode(),
            422,
            "validation_error",
            id="nan-attribute",
        ),
    ],
)
def test_bad_bodies_get_a_json_4xx(running: Server, raw: bytes, status: int, code: str) -> None:
    answered, body = running.request("POST", "/api/products", raw=raw, key=ADMIN_KEY)
    assert answered == status, body
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_unknown_routes_over_http(running: Server) -> None:
    status, body = running.request("GET", "/api/nothing-here")
    assert (status, body["error"]["code"]) == (404, "route_not_found")
    status, body = running.request("PATCH", "/api/products/x", {})
    assert (status, body["error"]["code"]) == (405, "method_not_allowed")


def test_quiet_does_not_log_requests(running: Server) -> None:
    assert running.request("GET", "/api/products?limit=1&quiet-probe=1")[0] == 200
    time.sleep(0.2)
    assert "quiet-probe" not in running.output


def test_the_admin_key_banner_says_where_the_key_comes_from(running: Server) -> None:
    banner = next(line for line in running.lines if line.startswith("Admin key:"))
    assert banner == f"Admin key: {ADMIN_KEY}  (from TALKSHOP_ADMIN_KEY)"
    assert not (running.data_dir / "admin-key").exists()
