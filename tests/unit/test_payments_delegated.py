"""ACP delegated payment tokens over the test provider: allowance checks, one use, no card data kept."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from talkshop.commerce.payments.delegated import DelegatedPayments, DelegatePaymentRequest
from talkshop.commerce.payments.model import PaymentDeclined
from talkshop.commerce.payments.providers import provider_from_settings
from talkshop.commerce.payments.testing import TestPaymentProvider
from talkshop.data.repository import Repository
from talkshop.errors import InvalidInput
from tests.conftest import FakeClock, table_snapshot

CARD_NUMBER = "4242424242424242"
MERCHANT = "talkshop"


def delegate_request(clock: FakeClock, **allowance: Any) -> DelegatePaymentRequest:
    """The spec's example request, with an allowance for us that expires in an hour."""
    return DelegatePaymentRequest.model_validate(
        {
            "payment_method": {
                "type": "card",
                "card_number_type": "fpan",
                "number": CARD_NUMBER,
                "exp_month": "11",
                "exp_year": "2030",
                "cvc": "223",
                "display_card_funding_type": "credit",
                "display_brand": "visa",
                "display_last4": "4242",
                "metadata": {},
            },
            "allowance": {
                "reason": "one_time",
                "max_amount": 5000,
                "currency": "eur",
                "checkout_session_id": "cs_1",
                "merchant_id": MERCHANT,
                "expires_at": (clock.now + timedelta(hours=1)).isoformat(),
                **allowance,
            },
            "risk_signals": [{"type": "card_testing", "score": 5, "action": "authorized"}],
            "metadata": {"source": "chatgpt_checkout"},
        }
    )


@pytest.fixture
def payments(repository: Repository, clock: FakeClock) -> DelegatedPayments:
    return DelegatedPayments(repository, TestPaymentProvider(repository, clock), MERCHANT, clock)


def test_a_delegated_token_is_charged_within_its_allowance(
    payments: DelegatedPayments, clock: FakeClock
) -> None:
    token = payments.delegate(delegate_request(clock), "idem_1").id

    authorisation = payments.authorise(4995, "EUR", token, "chk_1")

    assert token.startswith("vt_")
    assert (authorisation.status, authorisation.amount) == ("authorised", 4995)
    assert payments.verify_allowance(token, 4995, "EUR", "cs_1").authorisation_id == authorisation.id
    assert payments.authorise(4995, "EUR", token, "chk_1") == authorisation  # a retry of the same checkout


def test_delegating_twice_with_one_key_returns_the_same_token(
    payments: DelegatedPayments, clock: FakeClock
) -> None:
    assert payments.delegate(delegate_request(clock), "idem_1") == payments.delegate(
        delegate_request(clock), "idem_1"
    )


@pytest.mark.parametrize(
    ("amount", "currency", "session", "code"),
    [
        (5001, "EUR", None, "amount_exceeds_allowance"),
        (100, "USD", None, "currency_mismatch"),
        (100, "EUR", "cs_other", "session_mismatch"),
    ],
)
def test_charges_outside_the_allowance_are_declined(
    payments: DelegatedPayments, clock: FakeClock, amount: int, currency: str, session: str | None, code: str
) -> None:
    token = payments.delegate(delegate_request(clock), "idem_1").id
    with pytest.raises(PaymentDeclined) as declined:
        payments.verify_allowance(token, amount, currency, session)
    assert declined.value.code == code


def test_an_expired_allowance_is_declined(payments: DelegatedPayments, clock: FakeClock) -> None:
    token = payments.delegate(delegate_request(clock), "idem_1").id
    clock.now += timedelta(hours=2)
    with pytest.raises(PaymentDeclined) as declined:
        payments.authorise(100, "EUR", token, "chk_1")
    assert declined.value.code == "allowance_expired"


def test_a_one_time_token_pays_one_checkout_only(payments: DelegatedPayments, clock: FakeClock) -> None:
    token = payments.delegate(delegate_request(clock), "idem_1").id
    payments.authorise(100, "EUR", token, "chk_1")
    with pytest.raises(PaymentDeclined) as declined:
        payments.authorise(100, "EUR", token, "chk_2")
    assert declined.value.code == "token_already_used"


def test_unknown_tokens_are_declined(payments: DelegatedPayments) -> None:
    for token in ("vt_unknown", "vt_not an id"):
        with pytest.raises(PaymentDeclined) as declined:
            payments.authorise(100, "EUR", token, "chk_1")
        assert declined.value.code == "invalid_payment_token"


def test_delegation_is_refused_for_another_merchant_an_expired_allowance_or_a_blocked_card(
    payments: DelegatedPayments, clock: FakeClock, repository: Repository
) -> None:
    blocked = delegate_request(clock)
    blocked.risk_signals[0].action = "blocked"
    with pytest.raises(InvalidInput, match="another merchant"):
        payments.delegate(delegate_request(clock, merchant_id="acme"), "a")
    with pytest.raises(InvalidInput, match="expired"):
        payments.delegate(delegate_request(clock, expires_at=clock.now.isoformat()), "b")
    with pytest.raises(PaymentDeclined, match="risk"):
        payments.delegate(blocked, "c")
    assert table_snapshot(repository.table) == []


def test_other_tokens_go_straight_to_the_provider(payments: DelegatedPayments) -> None:
    assert payments.authorise(100, "EUR", "spt_test_ok", "chk_1").provider == "test"


def test_the_card_number_is_never_stored_nor_logged(
    payments: DelegatedPayments, clock: FakeClock, repository: Repository, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    request = delegate_request(clock)
    token = payments.delegate(request, "idem_1").id
    payments.authorise(100, "EUR", token, "chk_1")

    stored = json.dumps(table_snapshot(repository.table), default=str)
    assert "4242" in stored  # the display last four are kept...
    assert CARD_NUMBER not in stored  # ...the number is not,
    assert '"223"' not in stored  # nor the CVC
    assert CARD_NUMBER not in caplog.text
    assert CARD_NUMBER not in repr(request)
    assert CARD_NUMBER not in str(request.model_dump())


def test_the_default_provider_is_the_test_provider_with_delegated_tokens(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALKSHOP_PAYMENTS", raising=False)
    payments = provider_from_settings(repository)
    assert payments.name == "test"
    monkeypatch.setenv("TALKSHOP_PAYMENTS", "paypal")
    with pytest.raises(ValueError, match="TALKSHOP_PAYMENTS"):
        provider_from_settings(repository)
    monkeypatch.setenv("TALKSHOP_PAYMENTS", "stripe")
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("TALKSHOP_PAYMENTS_SECRET_ARN", raising=False)
    with pytest.raises(ValueError, match="STRIPE_API_KEY"):
        provider_from_settings(repository)
