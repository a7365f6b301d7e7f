"""The built-in test payment provider: the local default, and the one every test charges through.

Three tokens, named like Stripe's shared payment tokens:
- `spt_test_ok` is authorised;
- `spt_test_decline` is declined (PaymentDeclined);
- `spt_test_transient` fails once per idempotency key with PaymentUnavailable, then is authorised.

Its state lives in the table (one `test_payment` thing per idempotency key), not in memory, so a retry
that lands on another Lambda instance, or a restarted local runtime, sees the first attempt. Every call
is idempotent per idempotency key, like a real provider's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from talkshop.clock import Clock, utc_now
from talkshop.commerce.payments.model import Authorisation, PaymentDeclined, PaymentUnavailable
from talkshop.data.repository import IndexEntries, Repository, StoredEntity
from talkshop.errors import Conflict, InvalidInput, TalkshopError
from talkshop.ontology.model import Dimension, EntityRef, ThingType

PROVIDER_NAME = "test"
TOKEN_OK = "spt_test_ok"  # noqa: S105 - public test tokens, not secrets
TOKEN_DECLINE = "spt_test_decline"  # noqa: S105
TOKEN_TRANSIENT = "spt_test_transient"  # noqa: S105
TEST_TOKENS = frozenset({TOKEN_OK, TOKEN_DECLINE, TOKEN_TRANSIENT})

# Stripe's public test card numbers, so that a delegated (ACP) card turns into the matching test token.
_CARD_TOKENS = {
    "4000000000000002": TOKEN_DECLINE,  # Stripe: generic decline
    "4000000000000119": TOKEN_TRANSIENT,  # Stripe: processing error
}

PaymentState = Literal["unavailable", "authorised", "declined", "captured", "voided"]
_FIRST_STATE: dict[str, PaymentState] = {
    TOKEN_OK: "authorised",
    TOKEN_DECLINE: "declined",
    TOKEN_TRANSIENT: "unavailable",
}


class TestPayment(BaseModel):
    """What the test provider remembers of one idempotency key. Test tokens are public: storing one is
    fine, and it is the only payment detail kept."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid")

    idempotency_key: str
    token: str
    amount: int
    currency: str
    state: PaymentState
    capture_key: str | None = None
    void_key: str | None = None


class TestPaymentProvider:
    """Implements PaymentProvider over the table; see the module docstring for the tokens."""

    __test__ = False  # not a pytest test class
    name = PROVIDER_NAME

    def __init__(self, repository: Repository, clock: Clock = utc_now) -> None:
        self._repository = repository
        self._clock = clock

    def authorise(self, amount: int, currency: str, token: str, idempotency_key: str) -> Authorisation:
        if amount <= 0:
            raise InvalidInput("The amount to authorise must be positive.", code="invalid_amount")
        if token not in TEST_TOKENS:
            raise PaymentDeclined(
                f"The test provider accepts only {', '.join(sorted(TEST_TOKENS))}.",
                code="invalid_payment_token",
            )
        ref = _payment_ref(idempotency_key)
        stored = self._repository.get(ref)
        if stored is None:
            payment = TestPayment(
                idempotency_key=idempotency_key,
                token=token,
                amount=amount,
                currency=currency,
                state=_FIRST_STATE[token],
            )
            try:
                self._create(ref, payment)
            except Conflict:
                # A concurrent call with the same key won the create: answer as a replay of it.
                return self.authorise(amount, currency, token, idempotency_key)
            return _outcome(ref, payment)
        payment = TestPayment.model_validate(stored.data)
        if (payment.token, payment.amount, payment.currency.lower()) != (token, amount, currency.lower()):
            raise Conflict(
                "This idempotency key was used for a different payment.", code="idempotency_key_reused"
            )
        if payment.state == "unavailable":
            # The retry of a transient failure: this time it goes through.
            payment = self._change(stored, lambda current: _with_state(current, "authorised"))
        return _outcome(ref, payment)

    def capture(self, authorisation_id: str, idempotency_key: str) -> None:
        def captured(payment: TestPayment) -> TestPayment:
            if payment.state == "captured":
                return payment
            if payment.state != "authorised":
                raise PaymentDeclined(
                    f"Authorisation {authorisation_id} is {payment.state} and cannot be captured.",
                    code=f"authorisation_{payment.state}",
                )
            return payment.model_copy(update={"state": "captured", "capture_key": idempotency_key})

        self._change(self._existing(authorisation_id), captured)

    def void(self, authorisation_id: str, idempotency_key: str) -> None:
        self._change(self._existing(authorisation_id), _voided_by(idempotency_key))

    def void_attempt(self, authorise_key: str, idempotency_key: str, since: datetime) -> None:
        """Void what `authorise` held under `authorise_key` (the payment is stored under that key)."""
        stored = self._repository.get(_payment_ref(authorise_key))
        if stored is not None:
            self._change(stored, _voided_by(idempotency_key))

    def tokenise_card(self, number: str, exp_month: str | None, exp_year: str | None, cvc: str | None) -> str:
        """The test token a delegated card stands for (see `card_token`); nothing else is kept."""
        return card_token(number)

    def payment(self, authorisation_id: str) -> TestPayment | None:
        """What the provider holds for an authorisation (tests and the local runtime inspect it)."""
        stored = self._repository.get(_ref_of_id(authorisation_id))
        return TestPayment.model_validate(stored.data) if stored else None

    def _existing(self, authorisation_id: str) -> StoredEntity:
        stored = self._repository.get(_ref_of_id(authorisation_id))
        if stored is None:
            raise PaymentDeclined(
                f"The test provider has no authorisation {authorisation_id}.", code="authorisation_not_found"
            )
        return stored

    def _create(self, ref: EntityRef, payment: TestPayment) -> None:
        unit = self._repository.unit_of_work()
        unit.create(
            ref,
            payment.model_dump(mode="json"),
            IndexEntries(),
            self._clock(),
            on_exists=lambda: Conflict("The payment exists already.", code="payment_exists"),
        )
        unit.commit()

    def _change(self, stored: StoredEntity, change: Callable[[TestPayment], TestPayment]) -> TestPayment:
        """Apply a state change at the version read; a concurrent change is re-read and re-applied."""
        current = stored
        while True:
            before = TestPayment.model_validate(current.data)
            after = change(before)
            if after == before:
                return after
            unit = self._repository.unit_of_work()
            unit.replace(
                current,
                after.model_dump(mode="json"),
                IndexEntries(),
                self._clock(),
                on_conflict=lambda: Conflict("The payment changed meanwhile.", code="concurrent_update"),
            )
            try:
                unit.commit()
            except Conflict:
                reread = self._repository.get(current.ref)
                if reread is None:
                    raise
                current = reread
                continue
            return after


def _voided_by(idempotency_key: str) -> Callable[[TestPayment], TestPayment]:
    def voided(payment: TestPayment) -> TestPayment:
        if payment.state in ("voided", "declined", "unavailable"):
            return payment  # nothing is held: voiding is a no-op, so compensation can always run
        if payment.state == "captured":
            raise PaymentDeclined(
                "The authorisation was captured; it needs a refund, not a void.",
                code="authorisation_captured",
            )
        return payment.model_copy(update={"state": "voided", "void_key": idempotency_key})

    return voided


def card_token(card_number: str) -> str:
    """The test token a card number stands for: Stripe's decline and processing-error test cards map
    to spt_test_decline and spt_test_transient, any other valid number to spt_test_ok."""
    digits = card_number.replace(" ", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not _passes_luhn(digits):
        raise InvalidInput("The card number is not valid.", code="invalid_card")
    return _CARD_TOKENS.get(digits, TOKEN_OK)


def _passes_luhn(digits: str) -> bool:
    total = 0
    for position, character in enumerate(reversed(digits)):
        digit = int(character)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _payment_ref(idempotency_key: str) -> EntityRef:
    # Idempotency keys are client text: a digest makes any of them a valid, fixed-length id.
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return _ref_of_id(f"tpay_{digest}")


def _ref_of_id(authorisation_id: str) -> EntityRef:
    try:
        return EntityRef(dimension=Dimension.THING, type=ThingType.TEST_PAYMENT, id=authorisation_id)
    except ValueError:
        raise PaymentDeclined(
            "That is not an authorisation id of the test provider.", code="authorisation_not_found"
        ) from None


def _with_state(payment: TestPayment, state: PaymentState) -> TestPayment:
    return payment.model_copy(update={"state": state})


def _outcome(ref: EntityRef, payment: TestPayment) -> Authorisation:
    """The answer to an authorise call, the same for the first call and every replay."""
    error: TalkshopError | None = None
    if payment.state == "declined":
        error = PaymentDeclined("The test card was declined (spt_test_decline).", code="card_declined")
    elif payment.state == "voided":
        # A replay after the compensation voided it: the hold is gone, so it is not an authorisation.
        error = PaymentDeclined("The authorisation was voided.", code="authorisation_voided")
    elif payment.state == "unavailable":
        error = PaymentUnavailable(
            "The test provider is briefly unavailable (spt_test_transient); retry with the same key.",
            code="provider_unavailable",
        )
    if error is not None:
        raise error
    return Authorisation(
        id=ref.id,
        provider=PROVIDER_NAME,
        status="authorised",
        amount=payment.amount,
        currency=payment.currency,
    )
