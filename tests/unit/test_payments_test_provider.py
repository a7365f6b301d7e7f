"""The built-in test payment provider: its tokens, idempotency and state kept in the table."""

from __future__ import annotations

import pytest

from talkshop.commerce.payments.model import PaymentDeclined, PaymentUnavailable
from talkshop.commerce.payments.testing import (
    TOKEN_DECLINE,
    TOKEN_OK,
    TOKEN_TRANSIENT,
    TestPaymentProvider,
    card_token,
)
from talkshop.data.repository import Repository
from talkshop.errors import Conflict, InvalidInput
from tests.conftest import FakeClock


@pytest.fixture
def provider(repository: Repository, clock: FakeClock) -> TestPaymentProvider:
    return TestPaymentProvider(repository, clock)


def test_ok_token_is_authorised_and_replays_the_same_authorisation(provider: TestPaymentProvider) -> None:
    first = provider.authorise(4995, "EUR", TOKEN_OK, "chk_1")
    again = provider.authorise(4995, "EUR", TOKEN_OK, "chk_1")

    assert first.status == "authorised"
    assert (first.amount, first.currency, first.provider) == (4995, "EUR", "test")
    assert again == first
    assert provider.authorise(4995, "EUR", TOKEN_OK, "chk_2").id != first.id


def test_decline_token_is_declined_every_time(provider: TestPaymentProvider) -> None:
    for _ in range(2):
        with pytest.raises(PaymentDeclined) as declined:
            provider.authorise(4995, "EUR", TOKEN_DECLINE, "chk_1")
        assert declined.value.code == "card_declined"
        assert not declined.value.retryable


def test_transient_token_fails_once_per_key_then_succeeds(provider: TestPaymentProvider) -> None:
    with pytest.raises(PaymentUnavailable) as unavailable:
        provider.authorise(4995, "EUR", TOKEN_TRANSIENT, "chk_1")
    assert unavailable.value.retryable

    assert provider.authorise(4995, "EUR", TOKEN_TRANSIENT, "chk_1").status == "authorised"
    with pytest.raises(PaymentUnavailable):
        provider.authorise(4995, "EUR", TOKEN_TRANSIENT, "chk_2")


def test_state_survives_a_new_provider_instance(repository: Repository, clock: FakeClock) -> None:
    """A retry handled by another Lambda instance (or after a restart) sees the first attempt."""
    with pytest.raises(PaymentUnavailable):
        TestPaymentProvider(repository, clock).authorise(100, "EUR", TOKEN_TRANSIENT, "chk_1")

    authorisation = TestPaymentProvider(repository, clock).authorise(100, "EUR", TOKEN_TRANSIENT, "chk_1")
    TestPaymentProvider(repository, clock).capture(authorisation.id, "cap_1")

    payment = TestPaymentProvider(repository, clock).payment(authorisation.id)
    assert payment is not None
    assert payment.state == "captured"


def test_reusing_a_key_for_another_payment_is_refused(provider: TestPaymentProvider) -> None:
    provider.authorise(4995, "EUR", TOKEN_OK, "chk_1")
    with pytest.raises(Conflict) as conflict:
        provider.authorise(5995, "EUR", TOKEN_OK, "chk_1")
    assert conflict.value.code == "idempotency_key_reused"


def test_capture_and_void_are_idempotent(provider: TestPaymentProvider) -> None:
    captured = provider.authorise(100, "EUR", TOKEN_OK, "a")
    provider.capture(captured.id, "cap")
    provider.capture(captured.id, "cap")
    voided = provider.authorise(100, "EUR", TOKEN_OK, "b")
    provider.void(voided.id, "void")
    provider.void(voided.id, "void")

    assert provider.payment(captured.id).state == "captured"  # type: ignore[union-attr]
    assert provider.payment(voided.id).state == "voided"  # type: ignore[union-attr]


def test_a_voided_authorisation_cannot_be_captured_nor_a_captured_one_voided(
    provider: TestPaymentProvider,
) -> None:
    voided = provider.authorise(100, "EUR", TOKEN_OK, "a")
    provider.void(voided.id, "void")
    captured = provider.authorise(100, "EUR", TOKEN_OK, "b")
    provider.capture(captured.id, "cap")

    with pytest.raises(PaymentDeclined, match="voided"):
        provider.capture(voided.id, "cap")
    with pytest.raises(PaymentDeclined, match="refund"):
        provider.void(captured.id, "void")


def test_unknown_authorisations_and_tokens_are_declined(provider: TestPaymentProvider) -> None:
    with pytest.raises(PaymentDeclined) as unknown:
        provider.capture("tpay_missing", "cap")
    assert unknown.value.code == "authorisation_not_found"
    with pytest.raises(PaymentDeclined) as malformed:
        provider.void("not an id!", "void")
    assert malformed.value.code == "authorisation_not_found"
    with pytest.raises(PaymentDeclined) as token:
        provider.authorise(100, "EUR", "4242424242424242", "k")
    assert token.value.code == "invalid_payment_token"
    with pytest.raises(InvalidInput):
        provider.authorise(0, "EUR", TOKEN_OK, "k")


@pytest.mark.parametrize(
    ("number", "token"),
    [
        ("4242 4242 4242 4242", TOKEN_OK),
        ("4000000000000002", TOKEN_DECLINE),
        ("4000000000000119", TOKEN_TRANSIENT),
    ],
)
def test_test_cards_map_to_test_tokens(number: str, token: str) -> None:
    assert card_token(number) == token


def test_an_invalid_card_number_is_refused() -> None:
    with pytest.raises(InvalidInput):
        card_token("4242424242424241")


def test_void_attempt_voids_what_an_authorise_call_held_under_its_key(
    provider: TestPaymentProvider, clock: FakeClock
) -> None:
    held = provider.authorise(4995, "EUR", TOKEN_OK, "chk_1:authorise")
    other = provider.authorise(4995, "EUR", TOKEN_OK, "chk_2:authorise")

    provider.void_attempt("chk_1:authorise", "chk_1:void", clock.now)
    provider.void_attempt("chk_1:authorise", "chk_1:void", clock.now)  # idempotent
    provider.void_attempt("chk_never:authorise", "chk_never:void", clock.now)  # held nothing: no-op

    assert provider.payment(held.id).state == "voided"  # type: ignore[union-attr]
    assert provider.payment(other.id).state == "authorised"  # type: ignore[union-attr]
    # A late replay of the voided authorise is not an authorisation any more.
    with pytest.raises(PaymentDeclined) as replayed:
        provider.authorise(4995, "EUR", TOKEN_OK, "chk_1:authorise")
    assert replayed.value.code == "authorisation_voided"
