"""A chat turn that buys or offers a code, on moto: the chat service performs what the engine asks for
(the chat's cart at the data price through the cart service's chat-cart logic, the offered code stored
for the chat's checkout) in the turn's own unit of work; and the live ShopCommerce port over the real
discount and order services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from talkshop.advisor.chat_api import ChatMessageRequest, ChatReply, StartChatRequest
from talkshop.advisor.intents import Intent, Language
from talkshop.advisor.model import (
    AdvisorReply,
    CheckoutRequest,
    CodeRefused,
    ReplyEvent,
    TextDelta,
    TurnContext,
)
from talkshop.advisor.service import ChatService
from talkshop.advisor.shop_commerce import LiveCommerce
from talkshop.advisor.store import ConversationStore
from talkshop.auth import ADMIN, ANONYMOUS, Principal, PrincipalKind
from talkshop.catalog.model import Product
from talkshop.commerce.carts import checkout_url
from talkshop.commerce.checkout import CheckoutCommand, CheckoutService
from talkshop.commerce.checkout_steps import CheckoutSteps
from talkshop.commerce.model import DiscountFields
from talkshop.commerce.orders import OrderService
from talkshop.commerce.payments import provider_from_settings
from talkshop.data.repository import Repository
from talkshop.errors import Conflict
from talkshop.ontology.model import EventType
from tests.chat_fakes import FixedCatalog
from tests.commerce_fakes import InProcessCheckoutRunner, add_product
from tests.conftest import table_snapshot


class CommerceScript:
    """An engine whose message says what to ask for: "buy <product> <quantity>", "offer <code>"."""

    def respond(self, turn: TurnContext) -> Iterator[ReplyEvent]:
        words = turn.message.split()
        request = None
        if "buy" in words:
            at = words.index("buy")
            request = CheckoutRequest(product_id=words[at + 1], quantity=int(words[at + 2]))
        code = words[words.index("offer") + 1] if "offer" in words else None
        yield TextDelta(text="Done.")
        yield AdvisorReply(
            text="Done.",
            language=Language.EN,
            intent=Intent.BUY if request else Intent.DISCOUNT,
            preferences=turn.session.preferences,
            checkout_request=request,
            offered_discount_code=code,
        )


@pytest.fixture
def steps(repository: Repository) -> CheckoutSteps:
    return CheckoutSteps(repository, provider_from_settings(repository))


@pytest.fixture
def racket(repository: Repository) -> Product:
    return add_product(repository, "aero", price=5995, stock=4)


@pytest.fixture
def chats(repository: Repository, steps: CheckoutSteps, racket: Product) -> ChatService:
    return ChatService(
        ConversationStore(repository), FixedCatalog([racket]), CommerceScript(), carts=steps.carts
    )


def welcome_code(steps: CheckoutSteps) -> None:
    steps.discounts.create(
        DiscountFields.model_validate(
            {"code": "WELCOME10", "kind": "percent", "value": 10, "firstTimeOnly": True}
        ),
        ADMIN,
    )


def new_chat(chats: ChatService) -> tuple[str, Principal]:
    started = chats.start(StartChatRequest(), ANONYMOUS)
    return started.id, Principal(PrincipalKind.SHOPPER, started.user_id)


def send(chats: ChatService, session_id: str, principal: Principal, message: str, **fields: Any) -> ChatReply:
    return chats.reply(ChatMessageRequest(session_id=session_id, message=message, **fields), principal)


def cart_id_of(reply: ChatReply) -> str:
    assert reply.checkout is not None, reply
    return reply.checkout.cart_id


def test_a_buying_turn_creates_the_chat_cart_at_the_data_price(
    chats: ChatService, steps: CheckoutSteps, racket: Product
) -> None:
    session_id, ana = new_chat(chats)
    reply = send(chats, session_id, ana, "buy aero 2")

    cart_id = cart_id_of(reply)
    assert reply.model_dump(by_alias=True)["checkout"] == {
        "checkoutUrl": checkout_url(cart_id),
        "cartId": cart_id,
    }
    assert checkout_url(cart_id) == f"/checkout/{cart_id}"
    cart = steps.carts.get(cart_id, ana)
    assert cart.user_id == ana.person_id
    assert cart.session_id == session_id
    assert [(line.product_id, line.quantity, line.unit_price, line.currency) for line in cart.lines] == [
        ("aero", 2, racket.price, racket.currency)
    ]
    assert cart.discount_code is None
    session = chats.get(session_id, ana)
    assert session.carted_products == ["aero"]
    assert session.messages[-1].checkout_cart_id == cart.id
    cart_events = steps.store.repository.events_of(steps.store.carts.ref(cart.id))
    assert [(event.type, event.payload["quantity"]) for event in cart_events] == [
        (EventType.ADDED_TO_CART, 2)
    ]


def test_an_offered_code_is_stored_and_the_chat_cart_carries_it(
    chats: ChatService, steps: CheckoutSteps
) -> None:
    welcome_code(steps)
    session_id, ana = new_chat(chats)
    offered = send(chats, session_id, ana, "offer WELCOME10")
    assert offered.checkout is None
    assert steps.store.offered_code(session_id) == "WELCOME10"
    assert chats.get(session_id, ana).messages[-1].offered_code == "WELCOME10"

    cart = steps.carts.get(cart_id_of(send(chats, session_id, ana, "buy aero 1")), ana)
    assert cart.discount_code == "WELCOME10"
    quote = steps.carts.view(cart).quote
    assert quote is not None
    assert quote.discount == 599  # 10% of €59.95, rounded down


def test_a_code_offered_in_the_buying_turn_itself_reaches_its_cart(
    chats: ChatService, steps: CheckoutSteps
) -> None:
    session_id, ana = new_chat(chats)
    reply = send(chats, session_id, ana, "offer SPRING5 buy aero 1")
    assert steps.carts.get(cart_id_of(reply), ana).discount_code == "SPRING5"
    assert steps.store.offered_code(session_id) == "SPRING5"


def test_a_retried_buying_message_answers_the_same_cart_and_creates_no_second(
    chats: ChatService, steps: CheckoutSteps, repository: Repository
) -> None:
    session_id, ana = new_chat(chats)
    first = send(chats, session_id, ana, "buy aero 1", client_message_id="m-1")
    before = table_snapshot(repository.table)
    again = send(chats, session_id, ana, "buy aero 1", client_message_id="m-1")
    assert again.checkout == first.checkout
    assert table_snapshot(repository.table) == before


def test_a_buy_beyond_the_stock_is_refused_and_the_turn_is_not_recorded(
    chats: ChatService, repository: Repository
) -> None:
    session_id, ana = new_chat(chats)
    before = table_snapshot(repository.table)
    with pytest.raises(Conflict) as refused:
        send(chats, session_id, ana, "offer WELCOME10 buy aero 5")
    assert refused.value.code == "out_of_stock"
    assert table_snapshot(repository.table) == before


def test_a_product_the_catalog_does_not_sell_gets_no_cart(chats: ChatService) -> None:
    session_id, ana = new_chat(chats)
    reply = send(chats, session_id, ana, "buy ghost 1")
    assert reply.checkout is None
    assert chats.get(session_id, ana).carted_products == []


def test_without_carts_the_chat_service_acts_on_no_request(
    repository: Repository, steps: CheckoutSteps, racket: Product
) -> None:
    chats = ChatService(ConversationStore(repository), FixedCatalog([racket]), CommerceScript())
    session_id, ana = new_chat(chats)
    reply = send(chats, session_id, ana, "offer WELCOME10 buy aero 1")
    assert reply.checkout is None
    assert steps.store.offered_code(session_id) is None


# The live ShopCommerce port ---------------------------------------------------------------------------


def test_live_commerce_offers_checks_and_reads_orders_from_data(
    chats: ChatService, steps: CheckoutSteps, repository: Repository, racket: Product
) -> None:
    commerce = LiveCommerce(steps.discounts, OrderService(steps.store))
    session_id, ana = new_chat(chats)
    user_id = ana.person_id or ""
    assert commerce.offer_for(user_id, ["aero"]) is None
    assert commerce.recent_orders(user_id, 3) == []

    welcome_code(steps)
    offer = commerce.offer_for(user_id, ["aero"])
    assert offer is not None
    assert (offer.code, offer.percent, offer.first_order_only, offer.saving) == ("WELCOME10", 10, True, 599)
    assert commerce.check_code(user_id, "welcome10", ["aero"]) == offer
    with pytest.raises(CodeRefused, match="NOPE1"):
        commerce.check_code(user_id, "NOPE1", ["aero"])

    cart_id = cart_id_of(send(chats, session_id, ana, "buy aero 1"))
    runner = InProcessCheckoutRunner(steps.table())
    checkout = CheckoutService(steps.store, ConversationStore(repository), runner)
    record = checkout.run(
        CheckoutCommand(
            cart_id=cart_id, user_id=user_id, shipping_option="standard", payment_token="spt_test_ok"
        )
    )
    orders = commerce.recent_orders(user_id, 3)
    assert [(order.id, order.status, order.product_names) for order in orders] == [
        (record.order_id, "paid", [racket.name])
    ]
    # A first order placed, the first-order code no longer applies.
    assert commerce.offer_for(user_id, ["aero"]) is None
    with pytest.raises(CodeRefused):
        commerce.check_code(user_id, "WELCOME10", ["aero"])


def test_live_commerce_says_which_products_a_code_covers(
    steps: CheckoutSteps, repository: Repository, racket: Product
) -> None:
    add_product(repository, "fjord", price=4000, creator_id="courtcraft")
    steps.discounts.create(
        DiscountFields(code="CRAFT20", kind="percent", value=20),
        Principal(PrincipalKind.CREATOR, "courtcraft"),
    )
    commerce = LiveCommerce(steps.discounts, OrderService(steps.store))

    offer = commerce.offer_for("ana", ["aero", "fjord"])
    assert offer is not None
    assert (offer.code, offer.saving, offer.product_ids) == ("CRAFT20", 800, ["fjord"])
    assert commerce.check_code("ana", "craft20", ["aero", "fjord"]) == offer
    with pytest.raises(CodeRefused):
        commerce.check_code("ana", "CRAFT20", ["aero"])
