"""The OpenAPI document of the whole API, merged from each function's resolver."""

from __future__ import annotations

import importlib
from typing import Any

from talkshop.api.routes import FUNCTIONS, WEB

TITLE = "Talkshop API"
VERSION = "0.1.0"


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for function in FUNCTIONS:
        if function is WEB:
            continue  # HTML pages for browsers, not part of the JSON API
        app = importlib.import_module(function.module).app
        schema = app.get_openapi_schema(title=TITLE, version=VERSION).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        document = document or schema
        for path, operations in schema.get("paths", {}).items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(schema.get("components", {}).get("schemas", {}))
    document["paths"] = dict(sorted(paths.items()))
    document.setdefault("components", {})["schemas"] = dict(sorted(schemas.items()))
    return document
