"""The merged OpenAPI document covers the route table, and the committed copy is up to date."""

from __future__ import annotations

import json
from pathlib import Path

from talkshop.api.openapi import TITLE, VERSION, openapi_document
from talkshop.api.routes import ROUTES, WEB

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_document_has_every_route_of_the_table() -> None:
    document = openapi_document()
    assert document["info"]["title"] == TITLE
    assert document["info"]["version"] == VERSION
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    }
    # The web function's HTML pages are for browsers, not part of the JSON API's document.
    assert documented == {(route.method, route.path) for route in ROUTES if route.function is not WEB}
    # The schemas every function refers to were merged in, not only the first function's.
    references = set()
    for operations in document["paths"].values():
        references.update(_references(operations))
    schemas = document["components"]["schemas"]
    assert references
    assert {reference.removeprefix("#/components/schemas/") for reference in references} <= set(schemas)
    assert {"Product", "ProductInput", "ProductPage"} <= set(schemas)


def _references(value: object) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if isinstance(value.get("$ref"), str) else set()
        for item in value.values():
            found |= _references(item)
        return found
    if isinstance(value, list):
        found = set()
        for item in value:
            found |= _references(item)
        return found
    return set()


def test_the_committed_document_is_current() -> None:
    assert COMMITTED.is_file(), "docs/openapi.json is missing: run `make openapi`"
    fresh = json.loads(json.dumps(openapi_document(), sort_keys=True))
    committed = json.loads(COMMITTED.read_text())
    assert committed == fresh, "docs/openapi.json is stale: run `make openapi` and commit it"


def test_error_answers_are_documented_in_the_error_format() -> None:
    document = openapi_document()
    for path, operations in document["paths"].items():
        # ACP answers in its spec's Error object; the rest of the API in ErrorBody.
        error_format = "Error" if path.startswith("/acp/") else "ErrorBody"
        for method, operation in operations.items():
            client_errors = [status for status in operation["responses"] if status.startswith("4")]
            assert "422" in client_errors, (method, path)
            for status in client_errors:
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{error_format}"}, (method, path, status)
