"""Stripe as the payment provider: a PaymentIntent per checkout, authorised now and captured later.

`authorise` creates and confirms a PaymentIntent with `capture_method=manual` in one call, so the funds
are held (status `requires_capture`) until the order exists; `capture` takes them, `void` cancels the
intent, releasing the hold. Our idempotency key goes to Stripe with every call: a retry never creates a
second intent nor captures twice. Stripe's errors become ours: card errors are declines, rate limits,
connection failures and 5xx are PaymentUnavailable (retryable).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import stripe
from stripe.params import PaymentIntentListParams, PaymentMethodCreateParamsCard

from talkshop.commerce.payments.model import Authorisation, PaymentDeclined, PaymentUnavailable
from talkshop.errors import Conflict, InvalidInput

PROVIDER_NAME = "stripe"
AUTHORISE_KEY_METADATA = "talkshop_authorise_key"
# Intents that may still hold funds or be confirmed: the ones a void cancels.
_CANCELABLE = frozenset(
    {"requires_capture", "requires_payment_method", "requires_confirmation", "requires_action", "processing"}
)
# Clock skew between us and Stripe allowed for when listing intents created since a moment.
_SKEW_S = 300
# Short enough that a Step Functions task fails and retries instead of hanging on a stuck connection.
REQUEST_TIMEOUT_S = 10.0
_Result = TypeVar("_Result")


class StripeProvider:
    """Implements PaymentProvider with the stripe SDK; `api_base` points it at another server (tests)."""

    name = PROVIDER_NAME

    def __init__(self, api_key: str, *, api_base: str | None = None) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            # Retries belong to the caller (the state machine's backoff), always with the same key.
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_S),
        )

    def authorise(self, amount: int, currency: str, token: str, idempotency_key: str) -> Authorisation:
        if amount <= 0:
            raise InvalidInput("The amount to authorise must be positive.", code="invalid_amount")
        intent = _call(
            lambda: self._client.v1.payment_intents.create(
                {
                    "amount": amount,
                    "currency": currency.lower(),
                    "payment_method": token,
                    "allowed_payment_method_types": ["card"],
                    "capture_method": "manual",
                    "confirm": True,
                    # How the intent is found again when this call's answer is lost (void_attempt).
                    "metadata": {AUTHORISE_KEY_METADATA: idempotency_key},
                },
                {"idempotency_key": idempotency_key},
            )
        )
        if intent.status == "requires_capture":
            return Authorisation(
                id=intent.id,
                provider=PROVIDER_NAME,
                status="authorised",
                amount=intent.amount,
                currency=currency,
            )
        if intent.status == "processing":
            raise PaymentUnavailable(
                "Stripe is still processing the payment; retry with the same key.", code="payment_processing"
            )
        # requires_action (3-D Secure) cannot be completed inside a chat or by an agent: treat as declined.
        raise PaymentDeclined(
            f"Stripe could not authorise the payment (status {intent.status}).", code="authorisation_failed"
        )

    def capture(self, authorisation_id: str, idempotency_key: str) -> None:
        try:
            _call(
                lambda: self._client.v1.payment_intents.capture(
                    authorisation_id, options={"idempotency_key": idempotency_key}
                )
            )
        except PaymentDeclined:
            # Capturing an intent already captured (under another key) is done, not an error.
            if self._status(authorisation_id) != "succeeded":
                raise

    def void(self, authorisation_id: str, idempotency_key: str) -> None:
        try:
            _call(
                lambda: self._client.v1.payment_intents.cancel(
                    authorisation_id,
                    {"cancellation_reason": "abandoned"},
                    {"idempotency_key": idempotency_key},
                )
            )
        except PaymentDeclined:
            if self._status(authorisation_id) != "canceled":
                raise

    def void_attempt(self, authorise_key: str, idempotency_key: str, since: datetime) -> None:
        """Cancel the intent `authorise` created under `authorise_key`, found by its metadata among the
        intents created since `since`. Listing is strongly consistent (the search API is not: an intent
        created a moment ago may not be searchable yet), and the window is one checkout's."""
        params: PaymentIntentListParams = {
            "created": {"gte": int(since.timestamp()) - _SKEW_S},
            "limit": 100,
        }
        intents = _call(lambda: self._client.v1.payment_intents.list(params))
        for intent in _call(lambda: list(intents.auto_paging_iter())):
            metadata, name = intent.metadata, AUTHORISE_KEY_METADATA
            key = metadata[name] if metadata and name in metadata else None
            if key == authorise_key and intent.status in _CANCELABLE:
                self.void(intent.id, idempotency_key)

    def tokenise_card(self, number: str, exp_month: str | None, exp_year: str | None, cvc: str | None) -> str:
        """A Stripe PaymentMethod id for a card handed to us by an ACP agent (delegated payment)."""
        if not (exp_month and exp_month.isdigit() and exp_year and exp_year.isdigit()):
            raise InvalidInput("The card needs its expiry month and year.", code="invalid_card")
        card: PaymentMethodCreateParamsCard = {
            "number": number,
            "exp_month": int(exp_month),
            "exp_year": int(exp_year),
        }
        if cvc:
            card["cvc"] = cvc
        method = _call(lambda: self._client.v1.payment_methods.create({"type": "card", "card": card}))
        return method.id

    def _status(self, authorisation_id: str) -> str:
        return _call(lambda: self._client.v1.payment_intents.retrieve(authorisation_id)).status


def _call(request: Callable[[], _Result]) -> _Result:
    """Run one Stripe request, turning its errors into ours (messages carry no card data)."""
    try:
        return request()
    except stripe.CardError as error:
        raise PaymentDeclined(
            error.user_message or "The card was declined.", code=error.code or "card_declined"
        ) from None
    except stripe.IdempotencyError:
        raise Conflict(
            "This idempotency key was used for a different payment.", code="idempotency_key_reused"
        ) from None
    except (stripe.RateLimitError, stripe.APIConnectionError) as error:
        raise PaymentUnavailable(f"Stripe is unavailable: {type(error).__name__}.") from None
    except stripe.InvalidRequestError as error:
        # An unknown payment method or an intent in the wrong state: retrying cannot help.
        raise PaymentDeclined(
            error.user_message or "Stripe refused the request.", code=error.code or "invalid_request"
        ) from None
    except stripe.StripeError as error:
        if error.http_status is None or error.http_status >= 500:
            raise PaymentUnavailable(f"Stripe failed (HTTP {error.http_status}).") from None
        raise
