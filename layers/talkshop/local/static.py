"""The web client's static files (scripts, styles, images) served under /static/, as CloudFront
serves them from S3 on AWS: the same files, content types, caching and security headers."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from urllib.parse import unquote

from talkshop.local.invoke import HttpResult
from talkshop.web.render import SECURITY_HEADERS

STATIC_PREFIX = "/static/"
#: File names carry no content hash, so browsers keep a file a few minutes only; a deploy to AWS
#: invalidates CloudFront's copies (infra/constructs/web.py).
STATIC_CACHE_CONTROL = "public, max-age=300"
CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}


def static_root() -> Path:
    return Path(str(resources.files("talkshop.web") / "static"))


def static_file(path: str) -> HttpResult | None:
    """The file a /static/ URL path names, or None when there is none (the caller answers 404).

    The path is percent-decoded first, as S3 decodes object keys; paths that then climb out of the
    folder (``..``, also as ``%2e%2e`` or ``..%2f``), contain a NUL, or name a type we do not serve are
    treated as missing. The headers are the pages' security headers (CloudFront adds the same ones to
    the files on AWS), with caching allowed.
    """
    if not path.startswith(STATIC_PREFIX):
        return None
    relative = unquote(path.removeprefix(STATIC_PREFIX))
    if "\x00" in relative:
        return None
    root = static_root().resolve()
    candidate = (root / relative).resolve()
    content_type = CONTENT_TYPES.get(candidate.suffix)
    if content_type is None or not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return HttpResult(
        200,
        {**SECURITY_HEADERS, "Content-Type": content_type, "Cache-Control": STATIC_CACHE_CONTROL},
        candidate.read_bytes(),
    )
