"""Commerce rules without storage: money arithmetic, quotes, discount rules, the order's chat fields and
the checkout state's error shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from talkshop.advisor.model import ChatMessage, ConversationSession, Platform, Role
from talkshop.commerce.carts import AddLineRequest, ChatCheckoutRequest, SetQuantityRequest
from talkshop.commerce.checkout_steps import CheckoutState, CheckoutStepError, failure_from_states_error
from talkshop.commerce.discounts import DiscountRefused, Shopper, amount_off, check, describe
from talkshop.commerce.model import CartLine, Discount, DiscountFields, DiscountKind, OrderSource
from talkshop.commerce.orders import conversation_facts
from talkshop.commerce.pricing import SHIPPING_OPTIONS, quote, saving_text, shipping_option, spread
from talkshop.errors import InvalidInput

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
STANDARD = SHIPPING_OPTIONS["standard"]


def line(
    product_id: str = "racket", *, price: int = 3000, quantity: int = 1, creator: str = "padelnest"
) -> CartLine:
    return CartLine(
        product_id=product_id,
        creator_id=creator,
        name=product_id,
        quantity=quantity,
        unit_price=price,
        currency="EUR",
    )


def discount(**fields: Any) -> Discount:
    values: dict[str, Any] = {"code": "welcome10", "kind": "percent", "value": 10, "created_at": NOW}
    values.update(fields)
    return Discount.model_validate(values)


NEWCOMER = Shopper(user_id="ana", first_time_buyer=True, uses_of_code=0)


# Money


def test_spread_splits_exactly_in_proportion() -> None:
    assert spread(100, [1, 1, 1]) == [34, 33, 33]
    assert spread(10, [2000, 1000, 0]) == [7, 3, 0]
    assert spread(0, [5, 5]) == [0, 0]
    assert spread(7, [0, 0]) == [0, 0]
    for total, weights in [(999, [3, 7, 11]), (1, [1, 1, 1, 1]), (12345, [9999, 1, 500])]:
        shares = spread(total, weights)
        assert sum(shares) == total
        assert all(isinstance(share, int) for share in shares)


def test_quote_adds_up_in_integers_and_ships_free_from_the_threshold() -> None:
    small = quote([line(price=1999, quantity=2)], shipping=STANDARD)
    assert (small.subtotal, small.discount, small.shipping, small.tax, small.total) == (3998, 0, 495, 0, 4493)
    assert small.saving_text is None
    assert small.discount_code is None
    large = quote([line(price=2500, quantity=2)], shipping=STANDARD)
    assert large.shipping == 0
    assert large.total == 5000
    express = quote([line(price=2500, quantity=2)], shipping=shipping_option("express"))
    assert express.shipping == 995


def test_free_shipping_counts_the_goods_after_the_discount() -> None:
    lines = [line(price=5000)]
    discounted = quote(lines, shipping=STANDARD, discount=500, discount_code="WELCOME10")
    assert discounted.shipping == 495
    assert discounted.total == 5000 - 500 + 495
    assert discounted.saving_text == "You saved €5.00"
    assert discounted.lines[0].discount == 500


def test_discount_is_spread_over_the_lines_it_covers_only() -> None:
    lines = [line("a", price=1000), line("b", price=3000, quantity=2)]
    priced = quote(lines, shipping=STANDARD, discount=700, discounted_lines=[False, True], discount_code="X")
    assert [item.discount for item in priced.lines] == [0, 700]


def test_unknown_shipping_option_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        shipping_option("drone")
    assert refused.value.code == "unknown_shipping_option"


def test_saving_text_uses_the_currency_format() -> None:
    assert saving_text(500, "EUR") == "You saved €5.00"
    assert saving_text(500, "JPY").startswith("You saved ")
    assert "500" in saving_text(500, "JPY")


def test_a_cart_line_refuses_floats_and_out_of_range_quantities() -> None:
    with pytest.raises(ValidationError):
        CartLine(product_id="a", creator_id="c", name="a", quantity=1, unit_price=19.99, currency="EUR")
    for quantity in (0, 100):
        with pytest.raises(ValidationError):
            line(quantity=quantity)


# Discount codes


def test_percent_rounds_down_and_fixed_never_exceeds_the_goods() -> None:
    assert amount_off(discount(value=10), [line(price=1999)]) == 199
    assert amount_off(discount(value=100), [line(price=1999)]) == 1999
    fixed = discount(kind="fixed", value=1500, currency="EUR")
    assert amount_off(fixed, [line(price=1000)]) == 1000
    assert amount_off(fixed, [line(price=4000)]) == 1500


def test_scope_by_product_or_creator() -> None:
    lines = [line("a", price=1000, creator="padelnest"), line("b", price=2000, creator="courtcraft")]
    assert amount_off(discount(value=50, product_ids=["b"]), lines) == 1000
    assert amount_off(discount(value=50, creator_ids=["padelnest"]), lines) == 500
    assert amount_off(discount(value=50), lines) == 1500
    with pytest.raises(DiscountRefused) as refused:
        check(discount(product_ids=["zzz"]), lines, NEWCOMER, NOW)
    assert refused.value.code == "discount_not_applicable"


@pytest.mark.parametrize(
    ("fields", "shopper", "code"),
    [
        ({"valid_from": NOW + timedelta(seconds=1)}, NEWCOMER, "discount_not_started"),
        ({"valid_until": NOW}, NEWCOMER, "discount_expired"),
        ({"max_uses": 3, "uses": 3}, NEWCOMER, "discount_used_up"),
        ({"max_uses_per_customer": 1}, Shopper("ana", True, 1), "discount_limit_reached"),
        ({"first_time_only": True}, Shopper("ana", False, 0), "discount_first_order_only"),
        ({"kind": "fixed", "value": 500, "currency": "USD"}, NEWCOMER, "discount_currency_mismatch"),
    ],
)
def test_each_rule_refuses_with_its_code(fields: dict[str, Any], shopper: Shopper, code: str) -> None:
    with pytest.raises(DiscountRefused) as refused:
        check(discount(**fields), [line()], shopper, NOW)
    assert refused.value.code == code
    assert refused.value.status == 422


def test_a_code_at_the_edges_of_its_window_and_limits_applies() -> None:
    edge = discount(
        valid_from=NOW, valid_until=NOW + timedelta(seconds=1), max_uses=3, uses=2, max_uses_per_customer=2
    )
    assert check(edge, [line(price=1000)], Shopper("ana", True, 1), NOW) == 100
    assert check(discount(first_time_only=True), [line(price=1000)], NEWCOMER, NOW) == 100


def test_discount_fields_are_validated() -> None:
    assert DiscountFields(code=" welcome-10 ", kind=DiscountKind.PERCENT, value=10).code == "WELCOME-10"
    invalid = [
        {"code": "W10", "kind": "percent", "value": 101},
        {"code": "W10", "kind": "fixed", "value": 500},
        {"code": "W10", "kind": "percent", "value": 10, "currency": "EUR"},
        {"code": "W10", "kind": "fixed", "value": 500, "currency": "XXX"},
        {"code": "W10", "kind": "percent", "value": 0},
        {"code": "a b", "kind": "percent", "value": 10},
        {"code": "W10", "kind": "percent", "value": 10, "valid_from": "2026-12-01T00:00:00"},
        {
            "code": "W10",
            "kind": "percent",
            "value": 10,
            "validFrom": "2026-12-02T00:00:00Z",
            "validUntil": "2026-12-01T00:00:00Z",
        },
        {"code": "W10", "kind": "percent", "value": 10, "surprise": True},
    ]
    for body in invalid:
        with pytest.raises(ValidationError):
            DiscountFields.model_validate(body)


def test_a_first_order_code_is_once_per_customer() -> None:
    first = discount(first_time_only=True, max_uses_per_customer=5)
    assert first.uses_per_customer == 1
    assert discount(max_uses_per_customer=5).uses_per_customer == 5
    assert discount().uses_per_customer is None
    # A first order that was placed with the code but not paid leaves a "first-time buyer" who used it.
    with pytest.raises(DiscountRefused) as refused:
        check(first, [line()], Shopper("ana", first_time_buyer=True, uses_of_code=1), NOW)
    assert refused.value.code == "discount_first_order_only"


@pytest.mark.parametrize("value", [True, "10", 10.5, 10.0])
def test_discount_numbers_must_be_json_integers(value: Any) -> None:
    for field in ("value", "max_uses", "max_uses_per_customer"):
        with pytest.raises(ValidationError):
            DiscountFields.model_validate({"code": "W10", "kind": "percent", "value": 10} | {field: value})


@pytest.mark.parametrize("quantity", [True, False, "2", 2.5, 2.0, 0, 100])
def test_requested_quantities_must_be_json_integers_from_1_to_99(quantity: Any) -> None:
    for request, fields in (
        (AddLineRequest, {"productId": "aero"}),
        (SetQuantityRequest, {}),
        (ChatCheckoutRequest, {"sessionId": "chs_1", "productId": "aero"}),
    ):
        with pytest.raises(ValidationError):
            request.model_validate(fields | {"quantity": quantity})
    assert AddLineRequest.model_validate({"productId": "aero", "quantity": 99}).quantity == 99


def test_describe_names_the_deal() -> None:
    assert describe(discount(first_time_only=True)) == "10% off for first-time buyers"
    assert describe(discount(kind="fixed", value=500, currency="EUR")) == "€5.00 off"


# The order's chat fields


def test_conversation_facts_of_a_chat_order() -> None:
    started = NOW - timedelta(minutes=7, seconds=5)
    session = ConversationSession(
        id="chs_1",
        user_id="ana",
        platform=Platform.CHATGPT,
        suggested_products=["a"],
        viewed_products=["b"],
        started_at=started,
        last_activity_at=NOW,
        message_count=8,
    )
    priced = quote([line("a"), line("c")], shipping=STANDARD)
    facts = conversation_facts(
        session, priced.lines, applied_code="WELCOME10", offered_code="WELCOME10", ordered_at=NOW
    )
    assert facts.order_source == OrderSource.CONVERSATIONAL
    assert (facts.conversation_id, facts.conversation_platform) == ("chs_1", "chatgpt")
    assert facts.conversation_duration == 425
    assert facts.messages_count == 8
    assert facts.product_recommended_in_chat is True
    assert facts.reviewed_product_details_in_chat is False
    assert facts.discount_applied_from_chat is True
    typed = conversation_facts(
        session, priced.lines, applied_code="OTHER", offered_code="WELCOME10", ordered_at=NOW
    )
    assert typed.discount_applied_from_chat is False


def test_a_code_offered_in_any_turn_of_the_chat_counts_as_from_the_chat() -> None:
    def offering(code: str | None) -> ChatMessage:
        return ChatMessage(role=Role.ASSISTANT, content="...", timestamp=NOW, offered_code=code)

    session = ConversationSession(
        id="chs_1",
        user_id="ana",
        started_at=NOW - timedelta(minutes=3),
        last_activity_at=NOW,
        messages=[offering("NEST5"), offering(None), offering("WELCOME10")],
        message_count=3,
    )
    lines = quote([line("a")], shipping=STANDARD).lines

    def from_chat(applied: str | None, offered: str | None = "WELCOME10") -> bool:
        facts = conversation_facts(session, lines, applied_code=applied, offered_code=offered, ordered_at=NOW)
        return facts.discount_applied_from_chat

    # The cart the chat filled after its first offer carries NEST5, though the chat offered another since.
    assert from_chat("NEST5")
    assert from_chat("WELCOME10")
    assert from_chat("STAFF", offered="STAFF")
    assert not from_chat("TYPED")
    assert not from_chat(None)
    assert not from_chat(None, offered=None)


def test_an_order_without_a_chat_is_traditional() -> None:
    facts = conversation_facts(None, [], applied_code=None, offered_code=None, ordered_at=NOW)
    assert facts.order_source == OrderSource.TRADITIONAL
    assert facts.conversation_id is None
    assert not facts.product_recommended_in_chat


# The checkout state


def state(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "checkout_id": "chk_1",
        "cart_id": "crt_1",
        "user_id": "ana",
        "shipping_option": "standard",
        "payment": {"provider": "test", "token_ref": "spt_test_ok"},
        "idempotency_key": "chk_1",
    }
    values.update(fields)
    return values


def test_a_step_error_reaches_the_state_through_a_states_catch() -> None:
    error = CheckoutStepError("out_of_stock", "Not enough Aero left in stock.")
    cause = json.dumps({"errorMessage": str(error), "errorType": "CheckoutStepError"})
    caught = CheckoutState.model_validate(state(error={"Error": "CheckoutStepError", "Cause": cause}))
    assert caught.error is not None
    assert (caught.error.code, caught.error.message) == ("out_of_stock", "Not enough Aero left in stock.")
    crashed = failure_from_states_error({"Error": "States.Timeout", "Cause": "Task timed out"})
    assert crashed.code == "checkout_error"


def test_an_execution_that_ended_in_the_failed_state_is_its_failure_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The flow's `Failed` state ends the execution with the failure's code as Error, its message as
    Cause: a declined card is a payment_declined failure, not an unexpected error in the log."""
    declined = failure_from_states_error(
        {"Error": "payment_declined", "Cause": "The test card was declined."}
    )
    assert (declined.code, declined.message) == ("payment_declined", "The test card was declined.")
    assert "unexpectedly" not in caplog.text


def test_a_crash_reaches_the_caller_without_its_trace() -> None:
    cause = json.dumps(
        {
            "errorMessage": "boom",
            "errorType": "KeyError",
            "stackTrace": ['  File "/var/task/talkshop/commerce/checkout_steps.py", line 12, in price'],
        }
    )
    crashed = failure_from_states_error({"Error": "KeyError", "Cause": cause})
    assert crashed.code == "checkout_error"
    for leaked in ("File", "KeyError", "boom"):
        assert leaked not in crashed.message


def test_the_state_round_trips_as_json_and_refuses_unknown_fields() -> None:
    loaded = CheckoutState.model_validate(state())
    assert CheckoutState.model_validate_json(loaded.model_dump_json()) == loaded
    with pytest.raises(ValidationError):
        CheckoutState.model_validate(state(card_number="4242424242424242"))
