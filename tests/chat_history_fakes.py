"""A small shop for the history and chat-deletion tests: products in the table, a scripted engine,
and chats that recommend, cart and buy through the real chat, cart and checkout services."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from talkshop.advisor.chat_api import ChatMessageRequest, ChatReply, StartChatRequest
from talkshop.advisor.intents import Intent, Language
from talkshop.advisor.model import (
    AdvisorReply,
    CheckoutRequest,
    RecommendedProduct,
    ReplyEvent,
    TextDelta,
    TurnContext,
)
from talkshop.advisor.service import ChatService
from talkshop.advisor.store import ConversationStore
from talkshop.auth import ADMIN, ANONYMOUS, Principal, PrincipalKind
from talkshop.catalog.model import Product, ProductInput
from talkshop.catalog.service import CatalogService
from talkshop.commerce.checkout import CheckoutCommand, CheckoutService
from talkshop.commerce.checkout_steps import CheckoutSteps
from talkshop.commerce.model import Address, DiscountFields
from talkshop.commerce.payments import provider_from_settings
from talkshop.data.repository import Repository
from tests.chat_fakes import FixedCatalog
from tests.commerce_fakes import InProcessCheckoutRunner, add_product


class ShopScript:
    """Recommends and shows every word of the message with a '-' in it (a product id); after "buy",
    the next word is also bought, one unit, through the chat's checkout."""

    def respond(self, turn: TurnContext) -> Iterator[ReplyEvent]:
        words = turn.message.split()
        named = [word for word in words if "-" in word]
        buying = words[words.index("buy") + 1] if "buy" in words else None
        text = f"Here is what I found: {', '.join(named)}." if named else "Tell me more."
        yield TextDelta(text=text)
        yield AdvisorReply(
            text=text,
            language=Language.EN,
            intent=Intent.BUY if buying else Intent.DISCOVER,
            preferences=turn.session.preferences,
            recommendations=[
                RecommendedProduct(product_id=product_id, reasons=[f"{product_id} fits"], confidence=0.9)
                for product_id in named
            ],
            shown_products=named,
            mentioned_products=named,
            checkout_request=CheckoutRequest(product_id=buying) if buying else None,
            offered_discount_code="SPRING5" if buying else None,
        )


@dataclass
class Shopper:
    principal: Principal
    token: str

    @property
    def cookie(self) -> dict[str, str]:
        return {"Cookie": f"talkshop_shopper={self.token}"}


class Shop:
    def __init__(self, repository: Repository, products: list[Product]) -> None:
        self.repository = repository
        self.steps = CheckoutSteps(repository, provider_from_settings(repository))
        self.chats = ChatService(
            ConversationStore(repository), FixedCatalog(products), ShopScript(), carts=self.steps.carts
        )
        self.checkout = CheckoutService(
            self.steps.store, ConversationStore(repository), InProcessCheckoutRunner(self.steps.table())
        )
        # The code a buying turn offers (the chat keeps it as knowledge; its checkout applies it).
        self.steps.discounts.create(DiscountFields(code="SPRING5", kind="percent", value=5), ADMIN)

    def new_shopper(self) -> tuple[Shopper, str]:
        """A new shopper and their first chat's id."""
        started = self.chats.start(StartChatRequest(), ANONYMOUS)
        assert started.shopper_token is not None
        return Shopper(Principal(PrincipalKind.SHOPPER, started.user_id), started.shopper_token), started.id

    def new_chat(self, shopper: Shopper, **fields: Any) -> str:
        return self.chats.start(StartChatRequest(**fields), shopper.principal).id

    def send(self, shopper: Shopper, session_id: str, message: str) -> ChatReply:
        return self.chats.reply(ChatMessageRequest(session_id=session_id, message=message), shopper.principal)

    def buy(self, shopper: Shopper, session_id: str, product_id: str, address: Address | None = None) -> str:
        """A buying turn, then the checkout of its cart (shipped to `address`); the order's id."""
        reply = self.send(shopper, session_id, f"buy {product_id}")
        assert reply.checkout is not None, reply
        record = self.checkout.run(
            CheckoutCommand(
                cart_id=reply.checkout.cart_id,
                user_id=shopper.principal.person_id or "",
                shipping_option="standard",
                payment_token="spt_test_ok",
                session_id=session_id,
                address=address,
            )
        )
        assert record.order_id is not None, record
        return record.order_id


def shop_products(repository: Repository) -> list[Product]:
    """Products named after their ids ("Aero Lite"), and one that is not ("Nebula Smash")."""
    nebula = ProductInput(
        id="x-77",
        name="Nebula Smash",
        brand="Acme",
        category="padel-rackets",
        creator_id="padelnest",
        price=9900,
        currency="EUR",
        stock=3,
    )
    return [
        add_product(repository, "aero-lite", price=5995, stock=20),
        add_product(repository, "fjord-round", price=4000, stock=20, creator_id="courtcraft"),
        add_product(repository, "cafe-grip", price=850, stock=50),
        CatalogService(repository).create_product(nebula, ADMIN),
    ]
