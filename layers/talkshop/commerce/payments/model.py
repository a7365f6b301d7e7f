"""The payment provider interface every checkout charges through, and its results and errors.

Amounts are integers in minor units (cents). A provider only ever sees the opaque token the client
sent (`spt_…` test tokens, `pm_…` Stripe payment methods, `vt_…` ACP delegated tokens): card numbers
never reach our code, storage or logs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from talkshop.errors import TalkshopError

AuthorisationStatus = Literal["authorised", "declined"]


class Authorisation(BaseModel):
    """Funds held on the shopper's payment method, to be captured once the order exists (or voided)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    status: AuthorisationStatus
    amount: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    # Only when the provider reports them; never derived from the card number by us.
    last4: str | None = Field(default=None, min_length=4, max_length=4)
    brand: str | None = None


class PaymentError(TalkshopError):
    """Base of payment failures; `retryable` tells the state machine whether trying again can help."""

    retryable = False


class PaymentDeclined(PaymentError):
    """The payment method was refused (card declined, allowance exceeded...). Retrying cannot help."""

    status = 402
    code = "payment_declined"
    retryable = False


class PaymentUnavailable(PaymentError):
    """The provider could not answer (timeout, rate limit, 5xx). The same idempotency key may be retried."""

    status = 503
    code = "payment_unavailable"
    retryable = True


class PaymentProvider(Protocol):
    """One payment backend. Every call is idempotent per `idempotency_key`: a retry with the same key
    returns the first result and never charges twice.

    `authorise` returns an Authorisation with status "authorised" or raises PaymentDeclined /
    PaymentUnavailable; `capture` and `void` raise PaymentUnavailable when the provider cannot answer
    and PaymentDeclined when the authorisation cannot be captured (expired, already voided).

    `void_attempt` voids whatever `authorise` held under `authorise_key`, found by that key alone: the
    compensation of an authorise call whose answer was lost (the step crashed or timed out after the
    provider authorised). It does nothing when that call held nothing; `since` bounds the search (no
    authorisation under the key is older than it).
    """

    name: str

    def authorise(self, amount: int, currency: str, token: str, idempotency_key: str) -> Authorisation: ...

    def capture(self, authorisation_id: str, idempotency_key: str) -> None: ...

    def void(self, authorisation_id: str, idempotency_key: str) -> None: ...

    def void_attempt(self, authorise_key: str, idempotency_key: str, since: datetime) -> None: ...
