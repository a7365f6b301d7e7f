"""The Stripe provider driving the real stripe SDK against a fake Stripe server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from talkshop.commerce.payments.model import PaymentDeclined, PaymentUnavailable
from talkshop.commerce.payments.providers import provider_from_settings
from talkshop.commerce.payments.stripe import AUTHORISE_KEY_METADATA, StripeProvider
from talkshop.data.repository import Repository
from talkshop.errors import Conflict
from tests.conftest import FakeClock, table_snapshot
from tests.fakes.stripe_server import API_KEY, FakeStripeServer
from tests.unit.test_payments_delegated import CARD_NUMBER, delegate_request


@pytest.fixture
def server() -> Iterator[FakeStripeServer]:
    with FakeStripeServer() as running:
        yield running


@pytest.fixture
def provider(server: FakeStripeServer) -> StripeProvider:
    return StripeProvider(API_KEY, api_base=server.url)


def test_authorise_holds_the_funds_with_a_manual_capture_intent(
    provider: StripeProvider, server: FakeStripeServer
) -> None:
    authorisation = provider.authorise(4995, "EUR", "pm_card_visa", "chk_1")

    assert authorisation.status == "authorised"
    assert (authorisation.amount, authorisation.currency, authorisation.provider) == (4995, "EUR", "stripe")
    assert server.intent(authorisation.id)["status"] == "requires_capture"
    create = server.received[-1]
    assert create.form["capture_method"] == "manual"
    assert create.form["confirm"] == "true"
    assert create.form["currency"] == "eur"
    assert create.headers["idempotency-key"] == "chk_1"


def test_a_card_error_is_a_decline(provider: StripeProvider) -> None:
    with pytest.raises(PaymentDeclined) as declined:
        provider.authorise(4995, "EUR", "pm_card_chargeDeclined", "chk_1")
    assert declined.value.code == "card_declined"
    assert not declined.value.retryable


def test_an_unknown_payment_method_is_a_decline(provider: StripeProvider) -> None:
    with pytest.raises(PaymentDeclined) as declined:
        provider.authorise(4995, "EUR", "pm_missing", "chk_1")
    assert declined.value.code == "resource_missing"


@pytest.mark.parametrize(("status", "error_type"), [(500, "api_error"), (429, "rate_limit_error")])
def test_server_errors_and_rate_limits_are_retryable_and_the_retry_charges_once(
    provider: StripeProvider, server: FakeStripeServer, status: int, error_type: str
) -> None:
    server.fail_next(status, error_type)
    with pytest.raises(PaymentUnavailable) as unavailable:
        provider.authorise(4995, "EUR", "pm_card_visa", "chk_1")
    assert unavailable.value.retryable

    first = provider.authorise(4995, "EUR", "pm_card_visa", "chk_1")
    again = provider.authorise(4995, "EUR", "pm_card_visa", "chk_1")

    assert again == first
    assert server.intents_created == 1


def test_a_connection_failure_is_retryable() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    provider = StripeProvider(API_KEY, api_base=f"http://127.0.0.1:{port}")
    with pytest.raises(PaymentUnavailable):
        provider.authorise(4995, "EUR", "pm_card_visa", "chk_1")


def test_reusing_a_key_for_another_amount_is_refused(provider: StripeProvider) -> None:
    provider.authorise(4995, "EUR", "pm_card_visa", "chk_1")
    with pytest.raises(Conflict) as conflict:
        provider.authorise(5995, "EUR", "pm_card_visa", "chk_1")
    assert conflict.value.code == "idempotency_key_reused"


def test_capture_takes_the_funds_once(provider: StripeProvider, server: FakeStripeServer) -> None:
    authorisation = provider.authorise(4995, "EUR", "pm_card_visa", "chk_1")

    provider.capture(authorisation.id, "cap_1")
    provider.capture(authorisation.id, "cap_1")  # replayed by Stripe
    provider.capture(authorisation.id, "cap_2")  # already captured: done

    assert server.intent(authorisation.id)["status"] == "succeeded"
    assert [r.headers.get("idempotency-key") for r in server.received if r.path.endswith("/capture")] == [
        "cap_1",
        "cap_1",
        "cap_2",
    ]


def test_void_cancels_the_intent_idempotently(provider: StripeProvider, server: FakeStripeServer) -> None:
    authorisation = provider.authorise(4995, "EUR", "pm_card_visa", "chk_1")

    provider.void(authorisation.id, "void_1")
    provider.void(authorisation.id, "void_2")

    assert server.intent(authorisation.id)["status"] == "canceled"
    with pytest.raises(PaymentDeclined) as declined:
        provider.capture(authorisation.id, "cap_1")
    assert declined.value.code == "payment_intent_unexpected_state"


def test_a_captured_intent_cannot_be_voided(provider: StripeProvider) -> None:
    authorisation = provider.authorise(4995, "EUR", "pm_card_visa", "chk_1")
    provider.capture(authorisation.id, "cap_1")
    with pytest.raises(PaymentDeclined):
        provider.void(authorisation.id, "void_1")


def test_a_card_is_tokenised_into_a_payment_method(
    provider: StripeProvider, server: FakeStripeServer
) -> None:
    method = provider.tokenise_card("4000000000000002", "12", "2030", "123")
    assert method.startswith("pm_")
    with pytest.raises(PaymentDeclined):
        provider.authorise(100, "EUR", method, "chk_1")


def test_a_delegated_card_is_charged_through_stripe_from_the_settings(
    server: FakeStripeServer, repository: Repository, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALKSHOP_PAYMENTS", "stripe")
    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", server.url)
    payments = provider_from_settings(repository, clock)
    token = payments.delegate(delegate_request(clock), "idem_1").id

    authorisation = payments.authorise(4995, "EUR", token, "chk_1")
    payments.capture(authorisation.id, "cap_1")

    assert payments.name == "stripe"
    assert server.intent(authorisation.id)["status"] == "succeeded"
    assert CARD_NUMBER not in json.dumps(table_snapshot(repository.table), default=str)


def test_void_attempt_cancels_the_intent_created_under_the_key_and_only_it(
    provider: StripeProvider, server: FakeStripeServer
) -> None:
    since = datetime.now(UTC)
    held = provider.authorise(4995, "EUR", "pm_card_visa", "chk_1:authorise")
    other = provider.authorise(4995, "EUR", "pm_card_visa", "chk_2:authorise")
    assert server.intent(held.id)["metadata"] == {AUTHORISE_KEY_METADATA: "chk_1:authorise"}

    provider.void_attempt("chk_1:authorise", "chk_1:void", since)
    provider.void_attempt("chk_1:authorise", "chk_1:void", since)  # idempotent: already canceled
    provider.void_attempt("chk_never:authorise", "chk_never:void", since)  # held nothing: no-op

    assert server.intent(held.id)["status"] == "canceled"
    assert server.intent(other.id)["status"] == "requires_capture"


def test_void_attempt_pages_through_the_intents(provider: StripeProvider, server: FakeStripeServer) -> None:
    since = datetime.now(UTC)
    first = provider.authorise(100, "EUR", "pm_card_visa", "chk_first:authorise")
    for number in range(105):  # more than one page of 100, the first intent on the last page
        provider.authorise(100, "EUR", "pm_card_visa", f"chk_{number}:authorise")

    provider.void_attempt("chk_first:authorise", "chk_first:void", since)

    assert server.intent(first.id)["status"] == "canceled"
    assert any("starting_after" in request.path for request in server.received)
