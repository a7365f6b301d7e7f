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
from talkshop.commerce.checkout import (
    CheckoutCommand,
    StepFunctionsCheckoutRunner,
    finish_checkout,
    start_checkout,
)
from talkshop.commerce.checkout_steps import CheckoutState
from talkshop.commerce.model import CheckoutRecord, CheckoutStatus
from talkshop.commerce.store import CommerceStore
from talkshop.data.repository import Repository

FlowRunner = Callable[[CheckoutState], object]


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
        command = CheckoutCommand(
            cart_id=request.cart_id,
            user_id=request.user_id,
            shipping_option=request.shipping_option,
            payment_token=request.payment_token,
            address=request.address,
            discount_code=request.discount_code,
            agent_id=request.user_id,
        )
        state = start_checkout(self.store, command, checkout_id, request.idempotency_key, self.clock)
        final = self.run_flow(state)
        return finish_checkout(self.store, state, final if isinstance(final, CheckoutState) else state)


# Set by the infrastructure (and the local runtime) to the checkout state machine's ARN.
CHECKOUT_STATE_MACHINE_VARIABLE = "TALKSHOP_CHECKOUT_STATE_MACHINE_ARN"


def state_machine_flow(state_machine_arn: str, client: Any = None) -> FlowRunner:
    """Runs the checkout state machine synchronously (an Express workflow: StartSyncExecution)."""
    return StepFunctionsCheckoutRunner(state_machine_arn, client).start
