"""The route table against the handlers it names: what each resolver serves is what the table says."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from talkshop.api.routes import FUNCTIONS, ROUTES, FunctionSpec, Route
from talkshop.local.apigateway import match_route

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def served_routes(function: FunctionSpec) -> set[tuple[str, str]]:
    app = importlib.import_module(function.module).app
    paths = app.get_openapi_schema().paths or {}
    return {
        (method.upper(), path)
        for path, item in paths.items()
        for method in METHODS
        if getattr(item, method, None) is not None
    }


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda function: function.name)
def test_each_function_serves_exactly_its_routes(function: FunctionSpec) -> None:
    declared = {(route.method, route.path) for route in ROUTES if route.function == function}
    assert declared, f"{function.name} has no route"
    assert served_routes(function) == declared


def test_every_route_belongs_to_a_listed_function_and_routes_are_unique() -> None:
    assert {route.function for route in ROUTES} == set(FUNCTIONS)
    pairs = [(route.method, route.path) for route in ROUTES]
    assert len(pairs) == len(set(pairs))
    assert len({function.name for function in FUNCTIONS}) == len(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda function: function.name)
def test_each_function_has_a_deployable_handler(function: FunctionSpec) -> None:
    handler_file = ROOT / "functions" / function.name / "handler.py"
    assert handler_file.is_file()
    assert function.module == f"functions.{function.name}.handler"
    module = importlib.import_module(function.module)
    assert Path(module.__file__ or "").resolve() == handler_file
    assert callable(module.lambda_handler)

    # On Lambda only the function's folder is deployed (as the package root): importing
    # `functions.*` would work locally and fail there.
    tree = ast.parse(handler_file.read_text())
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                imported.append("." * node.level + (node.module or ""))
            else:
                imported.append(node.module or "")
    offending = [name for name in imported if name == "functions" or name.startswith(("functions.", "."))]
    assert offending == [], f"{handler_file} imports {offending}"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.method} {route.path}")
def test_match_route_resolves_every_route(route: Route) -> None:
    names = re.findall(r"\{(\w+)\}", route.path)
    concrete = re.sub(r"\{\w+\}", "prd_0a1b.c:d-e", route.path)
    found = match_route(route.method, concrete)
    assert found is not None
    assert found.route == route
    assert found.path_parameters == dict.fromkeys(names, "prd_0a1b.c:d-e")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nothing"),
        ("GET", "/api/products/"),
        ("GET", "/api/products/a/b"),
        ("GET", "/api/productsX"),
        ("GET", "/prefix/api/products"),
        ("GET", "/api/products/x/"),
        ("PATCH", "/api/products/x"),
        ("POST", "/api/products/x"),
        ("DELETE", "/api/products"),
        ("get", "/api/products"),
    ],
)
def test_match_route_returns_none_for_unknown_paths_and_methods(method: str, path: str) -> None:
    assert match_route(method, path) is None
