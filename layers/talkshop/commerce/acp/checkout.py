"""Completing an ACP session through the commerce core's checkout: the same record, the same
CheckoutState, the same flow (the checkout state machine) as every other surface.

`CoreCheckout` writes the checkout record and the flow's first state, then hands the state to
`run_flow`: the one way the deployment runs the checkout flow (StartSyncExecution of
statemachines/checkout.asl.json on AWS and in the local runtime). The record, as the flow leaves it,
is the answer: completed with its order, or failed with why.

The checkout id derives from the attempt's idempotency key, so a retried attempt (a request whose
answer was lost) finds the first attempt's record instead of starting a second checkout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from talkshop.clock import Clock, utc_now
from talkshop.commerce.acp.sessions import CheckoutRequest
from talkshop.commerce.checkout_steps import CheckoutState, PaymentInstruction
from talkshop.commerce.model import CheckoutRecord, CheckoutStatus
from talkshop.commerce.store import CommerceStore
from talkshop.data.repository import Repository
from talkshop.errors import TalkshopError

DELEGATED_TOKEN_PREFIX = "vt_"  # noqa: S105 - a prefix, not a secret

FlowRunner = Callable[[CheckoutState], object]


def payment_provider_of(token: str) -> str:
    """How the record names the payment: an ACP delegated token, or a card token of the provider."""
    return "acp_delegated" if token.startswith(DELEGATED_TOKEN_PREFIX) else "card_token"


def checkout_id_for(idempotency_key: str) -> str:
    return "chk_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


class CoreCheckout:
    def __init__(self, repository: Repository, run_flow: FlowRunner, clock: Clock = utc_now) -> None:
        self.store = CommerceStore(repository)
        self.run_flow = run_flow
        self.clock = clock

    def __call__(self, request: CheckoutRequest) -> CheckoutRecord:
        checkout_id = checkout_id_for(request.idempotency_key)
        existing = self.store.checkouts.get(checkout_id)
        if existing is not None and existing.value.status != CheckoutStatus.STARTED:
            return existing.value
        if existing is None:
            now = self.clock()
            record = CheckoutRecord(
                id=checkout_id,
                cart_id=request.cart_id,
                user_id=request.user_id,
                discount_code=request.discount_code,
                shipping_option=request.shipping_option,
                address=request.address,
                payment_provider=payment_provider_of(request.payment_token),
                created_at=now,
            )
            work = self.store.repository.unit_of_work()
            self.store.checkouts.stage_create(work, record, now)
            try:
                work.commit()
            except TalkshopError as error:
                if error.code != "checkout_exists":  # a concurrent retry wrote it: run the same one
                    raise
        self.run_flow(
            CheckoutState(
                checkout_id=checkout_id,
                cart_id=request.cart_id,
                user_id=request.user_id,
                discount_code=request.discount_code,
                shipping_option=request.shipping_option,
                address=request.address,
                payment=PaymentInstruction(
                    provider=payment_provider_of(request.payment_token), token_ref=request.payment_token
                ),
                idempotency_key=request.idempotency_key,
                agent_id=request.user_id,
            )
        )
        finished = self.store.checkouts.get(checkout_id)
        if finished is None:
            raise TalkshopError("The checkout record vanished.", code="checkout_not_found")
        return finished.value


# Set by the infrastructure (and the local runtime) to the checkout state machine's ARN.
CHECKOUT_STATE_MACHINE_VARIABLE = "TALKSHOP_CHECKOUT_STATE_MACHINE_ARN"


def state_machine_flow(state_machine_arn: str, client: Any = None) -> FlowRunner:
    """Runs the checkout state machine synchronously (an Express workflow: StartSyncExecution)."""

    def run(state: CheckoutState) -> object:
        import boto3

        stepfunctions = client or boto3.client("stepfunctions")
        return stepfunctions.start_sync_execution(
            stateMachineArn=state_machine_arn, input=state.model_dump_json()
        )

    return run
