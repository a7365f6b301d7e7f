"""The checkout_steps function and the ASL that calls it agree: step names, error names, the compensation
chain; and the handler turns a step's failure into the error name the state machine matches."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.checkout_steps import handler
from talkshop.api.state_machines import CHECKOUT
from talkshop.commerce.checkout_steps import (
    AFTER_ORDER,
    BEFORE_ORDER,
    COMPENSATIONS,
    FORWARD_STEPS,
    STEPS,
    CheckoutState,
    CheckoutStepError,
    PaymentInstruction,
)
from talkshop.local.apigateway import LocalLambdaContext

DEFINITION = json.loads(CHECKOUT.definition({"checkout_steps": "arn:aws:lambda:eu-west-1:1:function:steps"}))
STATES = DEFINITION["States"]
CONTEXT = LocalLambdaContext("checkout_steps", 20)


def state() -> dict[str, Any]:
    return CheckoutState(
        checkout_id="chk_1",
        cart_id="crt_1",
        user_id="usr_1",
        shipping_option="standard",
        payment=PaymentInstruction(token_ref="spt_test_ok"),
        idempotency_key="chk_1",
    ).model_dump(mode="json")


def tasks() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in STATES.items() if spec["Type"] == "Task"}


def test_the_forward_path_runs_the_steps_in_order_and_every_task_names_a_step() -> None:
    name, path = DEFINITION["StartAt"], []
    while STATES[name]["Type"] == "Task":
        path.append(STATES[name]["Parameters"]["Payload"]["step"])
        name = STATES[name]["Next"]
    assert tuple(path) == FORWARD_STEPS
    assert STATES[name]["Type"] == "Succeed"
    assert {spec["Parameters"]["Payload"]["step"] for spec in tasks().values()} == set(STEPS)


def test_only_retryable_errors_are_retried_with_bounded_backoff() -> None:
    for spec in tasks().values():
        retried = {error for retry in spec["Retry"] for error in retry["ErrorEquals"]}
        assert handler.CheckoutRetryable.__name__ in retried
        assert handler.CheckoutStepFailed.__name__ not in retried
        assert not retried & {"States.ALL", "States.TaskFailed"}
        for retry in spec["Retry"]:
            assert retry["BackoffRate"] > 1
            assert retry["MaxAttempts"] <= 3


def test_every_failure_before_the_order_is_compensated_then_fails_with_the_steps_code() -> None:
    for name in BEFORE_ORDER:
        [spec] = [spec for spec in tasks().values() if spec["Parameters"]["Payload"]["step"] == name]
        assert spec["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "VoidAuthorisation"}
        ]
    chain, name = [], "VoidAuthorisation"
    while STATES[name]["Type"] == "Task":
        chain.append(STATES[name]["Parameters"]["Payload"]["step"])
        # A compensation that fails does not stop the ones after it.
        assert [catch["Next"] for catch in STATES[name].get("Catch", [])] in ([], [STATES[name]["Next"]])
        name = STATES[name]["Next"]
    assert tuple(chain) == COMPENSATIONS
    assert STATES[name] == {"Type": "Fail", "ErrorPath": "$.error.code", "CausePath": "$.error.message"}


def test_no_failure_after_the_order_is_compensated() -> None:
    """The order is the point of no return: publish and confirm fail forward, keeping the state."""
    for name in AFTER_ORDER:
        [spec] = [spec for spec in tasks().values() if spec["Parameters"]["Payload"]["step"] == name]
        assert spec["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": spec["Next"]}]


def test_an_invalid_state_is_refused_without_echoing_its_values() -> None:
    bad = {**state(), "cart_id": "not a valid id!", "quote": "nonsense"}
    with pytest.raises(handler.CheckoutStepFailed) as failed:
        handler.lambda_handler({"step": "price", "state": bad}, CONTEXT)
    detail = json.loads(str(failed.value))
    assert detail["code"] == "invalid_state"
    assert "cart_id" in detail["message"]
    assert "spt_test_ok" not in str(failed.value)
    assert "nonsense" not in str(failed.value)


def test_the_payment_token_stays_out_of_the_states_repr() -> None:
    assert "spt_test_ok" not in repr(CheckoutState.model_validate(state()))


@pytest.mark.parametrize(
    ("retryable", "raised"), [(True, handler.CheckoutRetryable), (False, handler.CheckoutStepFailed)]
)
def test_a_step_error_leaves_as_the_error_name_the_asl_matches(
    monkeypatch: pytest.MonkeyPatch, retryable: bool, raised: type[Exception]
) -> None:
    def failing(current: CheckoutState) -> CheckoutState:
        raise CheckoutStepError("payment_unavailable", "Try again.", retryable=retryable)

    monkeypatch.setitem(STEPS, "authorise_payment", failing)

    with pytest.raises(raised) as failed:
        handler.lambda_handler({"step": "authorise_payment", "state": state()}, CONTEXT)
    assert json.loads(str(failed.value))["code"] == "payment_unavailable"


def test_a_step_answers_the_new_state_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        STEPS, "price", lambda current: current.model_copy(update={"reservation_id": "rsv_1"})
    )

    answered = handler.lambda_handler({"step": "price", "state": state()}, CONTEXT)

    assert answered == {**state(), "reservation_id": "rsv_1"}


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({"step": "teleport", "state": state()}, "unknown_step"),
        ({"step": "price", "state": {}}, "invalid_state"),
    ],
)
def test_a_malformed_invocation_fails_without_retry(event: dict[str, Any], code: str) -> None:
    with pytest.raises(handler.CheckoutStepFailed) as failed:
        handler.lambda_handler(event, CONTEXT)
    assert json.loads(str(failed.value))["code"] == code
