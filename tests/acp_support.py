"""What the ACP tests share: the spec's JSON Schemas (copied into tests/fixtures/acp), a shop with an
agent and products, calls to the ACP routes with the protocol's headers, and the checkout flow run
in-process over the commerce core's real steps."""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from talkshop.auth import ADMIN
from talkshop.catalog.model import Image, ProductInput
from talkshop.catalog.service import CatalogService
from talkshop.commerce.checkout_steps import COMPENSATIONS, FORWARD_STEPS, CheckoutState, CheckoutStepError
from talkshop.data.repository import Repository
from talkshop.local.invoke import HttpResult
from tests.conftest import ADMIN_KEY
from tests.integration.http import call

FIXTURES = Path(__file__).parent / "fixtures" / "acp"
SHARED_SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "acp"
CURRENT = "2026-04-17"
LEGACY = "2025-09-29"
ADDRESS = {
    "name": "Ana Costa",
    "line_one": "Rua das Flores 12",
    "city": "Lisboa",
    "state": "Lisboa",
    "country": "PT",
    "postal_code": "1200-195",
}


@cache
def schema_bundle(version: str, name: str = "agentic_checkout") -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((FIXTURES / version / f"schema.{name}.json").read_text())
    return bundle


def validator(version: str, definition: str, bundle: str = "agentic_checkout") -> Draft202012Validator:
    defs = schema_bundle(version, bundle)["$defs"]
    return Draft202012Validator(
        {"$ref": f"#/$defs/{definition}", "$defs": defs}, format_checker=FormatChecker()
    )


def assert_valid(
    document: Any, definition: str, version: str = CURRENT, bundle: str = "agentic_checkout"
) -> None:
    errors = sorted(
        validator(version, definition, bundle).iter_errors(document), key=lambda error: error.path
    )
    assert not errors, "\n".join(f"{list(error.path)}: {error.message}" for error in errors[:5])


def assert_acp_error(result: HttpResult, status: int, code: str, version: str = CURRENT) -> dict[str, Any]:
    assert result.status == status, result.body
    body: dict[str, Any] = result.json()
    assert_valid(body, "Error", version)
    assert body["code"] == code
    return body


def acp(
    method: str,
    path: str,
    key: str | None,
    body: Any = None,
    *,
    version: str | None = CURRENT,
    idempotency_key: str | None = "new",
    raw: bytes | None = None,
) -> HttpResult:
    """One ACP call; a fresh Idempotency-Key on each POST unless told which (None: no header)."""
    headers = {"Request-Id": "req_test"}
    if version:
        headers["API-Version"] = version
    if method == "POST" and idempotency_key:
        headers["Idempotency-Key"] = str(uuid.uuid4()) if idempotency_key == "new" else idempotency_key
    return call(method, path, key, body=body, raw=raw, headers=headers)


def issue_agent_key(name: str = "Shopping Agent") -> dict[str, Any]:
    issued = call("POST", "/api/admin/agent-keys", ADMIN_KEY, {"name": name})
    assert issued.status == 201, issued.body
    body: dict[str, Any] = issued.json()
    return body


def stock_shop(repository: Repository) -> CatalogService:
    """A creator with a racket (10 in stock), balls (2 left) and a bag (sold out), in EUR."""
    catalog = CatalogService(repository)
    catalog.creators.add("PadelNest", "padelnest")
    for product_id, name, price, stock in (
        ("aero-lite", "Aero Lite", 8995, 10),
        ("pro-balls", "Pro Balls (3)", 695, 2),
        ("tour-bag", "Tour Bag", 4500, 0),
    ):
        catalog.create_product(
            ProductInput(
                id=product_id,
                name=name,
                brand="Vantaro",
                category="padel-rackets",
                creator_id="padelnest",
                description=f"The {name}.",
                price=price,
                currency="EUR",
                stock=stock,
                images=[Image(url=f"/static/products/{product_id}.svg", alt=name)],
            ),
            ADMIN,
        )
    return catalog


def run_steps_in_process(steps: Any) -> Any:
    """The checkout flow as the state machine runs it: the forward steps in order, a retryable failure
    tried again (at most three times), any other failure -> the compensations, mark_failed last."""
    table = steps.table()

    def run(state: CheckoutState) -> CheckoutState:
        try:
            for name in FORWARD_STEPS:
                state = _with_retries(table[name], state)
        except CheckoutStepError as error:
            state = state.model_copy(update={"error": error.failure})
            for name in COMPENSATIONS:
                state = table[name](state)
        return state

    return run


def _with_retries(step: Any, state: CheckoutState) -> CheckoutState:
    for attempt in range(3):
        try:
            result: CheckoutState = step(state)
            return result
        except CheckoutStepError as error:
            if not error.retryable or attempt == 2:
                raise
    raise AssertionError("unreachable")
