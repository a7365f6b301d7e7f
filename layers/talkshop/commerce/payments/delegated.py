"""ACP delegated payment tokens (`vt_…`): a card an agent hands over once, usable only within an allowance.

An agent (ChatGPT Instant Checkout...) sends the shopper's card with an allowance — at most this amount,
in this currency, for this merchant and checkout session, until this time — in the spec's
DelegatePaymentRequest. We tokenise the card at once with the configured provider (a Stripe payment
method, or a test token) and keep only a `delegated_payment_token` thing: the allowance, the provider's
token, the display brand and last four digits. The card number and CVC are never stored nor logged
(pydantic SecretStr keeps them out of reprs).

`DelegatedPayments` is itself a PaymentProvider: a `vt_…` token is checked against its allowance and
charged through the provider's token, once (the allowance is one_time); any other token goes straight
to the provider.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from talkshop.clock import Clock, utc_now
from talkshop.commerce.payments.model import Authorisation, PaymentDeclined, PaymentProvider
from talkshop.data.repository import IndexEntries, Repository, StoredEntity
from talkshop.errors import Conflict, InvalidInput
from talkshop.ontology.model import Dimension, EntityRef, ThingType

TOKEN_PREFIX = "vt_"  # noqa: S105 - a prefix, not a secret


class CardTokenisingProvider(PaymentProvider, Protocol):
    def tokenise_card(self, number: str, exp_month: str | None, exp_year: str | None, cvc: str | None) -> str:
        """The provider's own reusable token for a card (a Stripe payment method id, a test token)."""
        ...


class DelegatedCard(BaseModel):
    """The spec's PaymentMethodCard, as far as tokenising it needs; the secrets stay SecretStr."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["card"]
    card_number_type: Literal["fpan", "network_token"]
    number: SecretStr
    exp_month: Annotated[str, StringConstraints(max_length=2)] | None = None
    exp_year: Annotated[str, StringConstraints(max_length=4)] | None = None
    cvc: SecretStr | None = None
    display_card_funding_type: Literal["credit", "debit", "prepaid"]
    display_brand: str | None = None
    display_last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class Allowance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["one_time"]
    max_amount: int = Field(gt=0)
    currency: Annotated[str, StringConstraints(pattern=r"^[a-z]{3}$")]
    checkout_session_id: str = Field(min_length=1)
    merchant_id: str = Field(min_length=1, max_length=256)
    expires_at: datetime


class RiskSignal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["card_testing"]
    score: int
    action: Literal["blocked", "manual_review", "authorized"]


class DelegatePaymentRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    payment_method: DelegatedCard
    allowance: Allowance
    billing_address: dict[str, Any] | None = None
    risk_signals: list[RiskSignal]
    metadata: dict[str, str]


class DelegatePaymentResponse(BaseModel):
    id: str
    created: datetime
    metadata: dict[str, str]


class DelegatedToken(BaseModel):
    """What is stored for a `vt_…` token: never the card, only the provider's token for it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    allowance: Allowance
    provider: str
    provider_token: str
    display_brand: str | None = None
    display_last4: str | None = None
    metadata: dict[str, str]
    created_at: datetime
    # The one authorisation the one-time allowance was spent on, and the key it was made with.
    used_by_key: str | None = None
    authorisation_id: str | None = None


class DelegatedPayments:
    """Issues `vt_…` tokens and charges them within their allowance; a PaymentProvider for every token."""

    def __init__(
        self,
        repository: Repository,
        provider: CardTokenisingProvider,
        merchant_id: str,
        clock: Clock = utc_now,
    ) -> None:
        self._repository = repository
        self._provider = provider
        self._merchant_id = merchant_id
        self._clock = clock
        self.name = provider.name

    def delegate(self, request: DelegatePaymentRequest, idempotency_key: str) -> DelegatePaymentResponse:
        """Tokenise the card and store the token with its allowance; a replayed key returns the first."""
        ref = _token_ref(TOKEN_PREFIX + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24])
        existing = self._repository.get(ref)
        if existing is not None:
            return _response(DelegatedToken.model_validate(existing.data))
        allowance = request.allowance
        if allowance.merchant_id != self._merchant_id:
            raise InvalidInput("The allowance is for another merchant.", code="invalid_merchant")
        if allowance.expires_at <= self._clock():
            raise InvalidInput("The allowance has already expired.", code="allowance_expired")
        if any(signal.action == "blocked" for signal in request.risk_signals):
            raise PaymentDeclined("The agent's risk checks blocked this card.", code="risk_blocked")
        card = request.payment_method
        provider_token = self._provider.tokenise_card(
            card.number.get_secret_value(),
            card.exp_month,
            card.exp_year,
            card.cvc.get_secret_value() if card.cvc else None,
        )
        now = self._clock()
        token = DelegatedToken(
            id=ref.id,
            allowance=allowance,
            provider=self._provider.name,
            provider_token=provider_token,
            display_brand=card.display_brand,
            display_last4=card.display_last4,
            metadata={**request.metadata, "merchant_id": allowance.merchant_id},
            created_at=now,
        )
        unit = self._repository.unit_of_work()
        unit.create(
            ref,
            token.model_dump(mode="json"),
            IndexEntries(),
            now,
            on_exists=lambda: Conflict(
                "The same delegation is being processed.", code="idempotency_in_flight"
            ),
        )
        unit.commit()
        return _response(token)

    def verify_allowance(
        self, token: str, amount: int, currency: str, checkout_session_id: str | None = None
    ) -> DelegatedToken:
        """The token, if `amount` in `currency` fits its allowance (and, when given, the session matches)."""
        stored = self._stored(token)
        delegated = DelegatedToken.model_validate(stored.data)
        allowance = delegated.allowance
        if allowance.merchant_id != self._merchant_id:
            raise PaymentDeclined("The payment token is for another merchant.", code="invalid_merchant")
        if allowance.expires_at <= self._clock():
            raise PaymentDeclined("The payment token's allowance has expired.", code="allowance_expired")
        if currency.lower() != allowance.currency:
            raise PaymentDeclined(
                f"The payment token allows {allowance.currency.upper()} only.", code="currency_mismatch"
            )
        if amount > allowance.max_amount:
            raise PaymentDeclined(
                f"The amount exceeds the payment token's allowance of {allowance.max_amount}.",
                code="amount_exceeds_allowance",
            )
        if checkout_session_id is not None and checkout_session_id != allowance.checkout_session_id:
            raise PaymentDeclined(
                "The payment token was issued for another checkout session.", code="session_mismatch"
            )
        return delegated

    def authorise(self, amount: int, currency: str, token: str, idempotency_key: str) -> Authorisation:
        if not token.startswith(TOKEN_PREFIX):
            return self._provider.authorise(amount, currency, token, idempotency_key)
        delegated = self.verify_allowance(token, amount, currency)
        if delegated.used_by_key not in (None, idempotency_key):
            raise PaymentDeclined("The one-time payment token was already used.", code="token_already_used")
        authorisation = self._provider.authorise(amount, currency, delegated.provider_token, idempotency_key)
        if delegated.used_by_key is None:
            self._spend(token, idempotency_key, authorisation)
        return authorisation

    def capture(self, authorisation_id: str, idempotency_key: str) -> None:
        self._provider.capture(authorisation_id, idempotency_key)

    def void(self, authorisation_id: str, idempotency_key: str) -> None:
        self._provider.void(authorisation_id, idempotency_key)

    def void_attempt(self, authorise_key: str, idempotency_key: str, since: datetime) -> None:
        # A vt_ token is authorised through the provider under the same key, like any other token.
        self._provider.void_attempt(authorise_key, idempotency_key, since)

    def _spend(self, token: str, idempotency_key: str, authorisation: Authorisation) -> None:
        """Record the one use of the allowance; if another key spent it meanwhile, release our hold."""
        stored = self._stored(token)
        spent = DelegatedToken.model_validate(stored.data).model_copy(
            update={"used_by_key": idempotency_key, "authorisation_id": authorisation.id}
        )
        unit = self._repository.unit_of_work()
        unit.replace(
            stored,
            spent.model_dump(mode="json"),
            IndexEntries(),
            self._clock(),
            on_conflict=lambda: Conflict("The token changed meanwhile.", code="concurrent_update"),
        )
        try:
            unit.commit()
        except Conflict:
            winner = DelegatedToken.model_validate(self._stored(token).data)
            if winner.used_by_key == idempotency_key:
                return
            self._provider.void(authorisation.id, f"{idempotency_key}:lost-race")
            raise PaymentDeclined(
                "The one-time payment token was already used.", code="token_already_used"
            ) from None

    def _stored(self, token: str) -> StoredEntity:
        try:
            ref = _token_ref(token)
        except ValueError:
            ref = None
        stored = self._repository.get(ref) if ref else None
        if stored is None:
            raise PaymentDeclined("Unknown payment token.", code="invalid_payment_token")
        return stored


def _token_ref(token_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.THING, type=ThingType.DELEGATED_PAYMENT_TOKEN, id=token_id)


def _response(token: DelegatedToken) -> DelegatePaymentResponse:
    return DelegatePaymentResponse(id=token.id, created=token.created_at, metadata=token.metadata)
