"""The local gateway's /static/: the web client's files with their content types, caching and the pages'
security headers; nothing outside the folder, however the path is spelled; HEAD like GET without a body."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from talkshop.local import static
from talkshop.local.server import GatewayRequestHandler
from talkshop.local.static import STATIC_CACHE_CONTROL, static_file, static_root
from talkshop.web.render import SECURITY_HEADERS

PAGE_HEADERS = {name: value for name, value in SECURITY_HEADERS.items() if name != "Cache-Control"}


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A static folder of our own, next to files that must stay out of reach."""
    root = tmp_path / "static"
    (root / "products").mkdir(parents=True)
    (root / "site.css").write_text("body{}")
    (root / "two words.css").write_text("p{}")
    (root / "products" / "p-1.svg").write_text("<svg/>")
    (root / "notes.py").write_text("SECRET = 1")
    (tmp_path / "settings.py").write_text("SECRET = 1")
    (tmp_path / "outside.css").write_text("secret{}")
    (root / "linked.css").symlink_to(tmp_path / "outside.css")
    monkeypatch.setattr(static, "static_root", lambda: root)
    return root


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("theme.js", "text/javascript; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ],
)
def test_shipped_files_are_served_with_their_type(name: str, content_type: str) -> None:
    result = static_file(f"/static/{name}")
    assert result is not None
    assert result.status == 200
    assert result.headers["Content-Type"] == content_type
    assert result.body == (static_root() / name).read_bytes()


def test_files_carry_the_pages_security_headers_and_may_be_cached() -> None:
    result = static_file("/static/app.css")
    assert result is not None
    assert {name: result.headers[name] for name in PAGE_HEADERS} == PAGE_HEADERS
    assert "default-src 'none'" in result.headers["Content-Security-Policy"]
    assert result.headers["X-Content-Type-Options"] == "nosniff"
    assert result.headers["Cache-Control"] == STATIC_CACHE_CONTROL


def test_subfolders_and_percent_encoded_names_are_served(tmp_root: Path) -> None:
    product = static_file("/static/products/p-1.svg")
    assert product is not None
    assert product.body == b"<svg/>"
    spaced = static_file("/static/two%20words.css")
    assert spaced is not None
    assert spaced.body == b"p{}"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../settings.py",
        "/static/../../settings.py",
        "/static/%2e%2e/settings.py",
        "/static/%2E%2E%2Fsettings.py",
        "/static/..%2fsettings.py",
        "/static/..%2Foutside.css",
        "/static/products/../../outside.css",
        "/static/%2e%2e%2foutside.css",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/site.css%00.css",
        "/static/linked.css",  # a link pointing out of the folder
    ],
)
def test_paths_leaving_the_folder_are_refused(tmp_root: Path, path: str) -> None:
    assert static_file(path) is None


@pytest.mark.parametrize(
    "path",
    [
        "/static/missing.css",
        "/static/",
        "/static/products",
        "/static/products/",
        "/static/notes.py",  # a type we do not serve
        "/static/site.css.map",
        "/static/..%252foutside.css",  # decoded once, as S3 does: a literal "%2f", no such file
        "/other/site.css",
    ],
)
def test_missing_files_and_unserved_types_are_none(tmp_root: Path, path: str) -> None:
    assert static_file(path) is None


# --- Through the local gateway's request handler ---------------------------------------------------------


class StaticOnlyGateway(ThreadingHTTPServer):
    """The local gateway's HTTP server without the runtime behind it: /static/ never invokes a function."""

    daemon_threads = True
    quiet = True


@pytest.fixture
def gateway() -> Iterator[tuple[str, int]]:
    server = StaticOnlyGateway(("127.0.0.1", 0), GatewayRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _request(address: tuple[str, int], method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        connection.request(method, path)  # sent as it is: http.client does not normalise ".."
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_get_and_head_answer_the_same_headers_and_head_has_no_body(gateway: tuple[str, int]) -> None:
    expected = (static_root() / "app.js").read_bytes()
    status, headers, body = _request(gateway, "GET", "/static/app.js")
    assert (status, body) == (200, expected)
    head_status, head_headers, head_body = _request(gateway, "HEAD", "/static/app.js")
    assert head_status == 200
    assert head_body == b""
    assert head_headers["Content-Length"] == str(len(expected))
    assert {name: value for name, value in head_headers.items() if name != "Date"} == {
        name: value for name, value in headers.items() if name != "Date"
    }


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", ["/static/../settings.py", "/static/%2e%2e/render.py", "/static/nope.css"])
def test_refused_and_missing_files_are_404_over_http(
    gateway: tuple[str, int], method: str, path: str
) -> None:
    status, _, body = _request(gateway, method, path)
    assert status == 404
    assert body == (b"" if method == "HEAD" else b"No such file.")
