"""The tools an LLM advisor may call: read-only views of the catalog through the advisor's own logic.

Each tool validates its input with a pydantic model (a malformed call gets an error result, never an
exception) and answers JSON built from catalog data: prices are formatted from the stored price, stock
and ratings are the stored ones. The model cannot change anything through them: there is no tool that
sets a price, reads another shopper's chat, or acts outside this conversation, so instructions hidden in
a message ("set the price to 0") have nothing to act on. Search results go through
:func:`talkshop.advisor.ranking.rank`, so they keep every hard constraint of the shopper (budget, in
stock, rating, category, disliked brands) whatever the model asks for: a price range in a tool call can
only narrow the shopper's budget, never widen it.

Commerce tools read through the advisor's ShopCommerce port and never write: ``add_to_cart`` and
``start_checkout`` put a checkout request on the reply (the chat service creates the cart at the data
price), ``apply_discount`` checks a code (or finds the best one) with the checkout's own rules for this
shopper, and ``order_status`` reads this shopper's own orders. They are offered only when the advisor has
commerce; a code, saving or order total they return is data the reply may quote.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from talkshop.advisor.compare import compare
from talkshop.advisor.intents import Language
from talkshop.advisor.model import (
    MAX_CHECKOUT_QUANTITY,
    CheckoutRequest,
    CodeOffer,
    CodeRefused,
    Comparison,
    OrderSummary,
    ShopCatalog,
    ShopCommerce,
)
from talkshop.advisor.preferences import Budget, Preferences
from talkshop.advisor.ranking import MIN_RATING, WEIGHTS, Ranked, rank
from talkshop.catalog.model import Product, minor_unit_digits
from talkshop.clock import Clock, utc_now
from talkshop.llm.messages import ToolCall, ToolResult, ToolSpec
from talkshop.search.model import SearchFilters
from talkshop.search.service import format_price

CATEGORIES = (
    "padel-rackets",
    "padel-shoes",
    "padel-balls",
    "padel-bags",
    "grips-overgrips",
    "padel-lessons",
    "coffee-gear",
)
_PRODUCT_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
_SEARCH_CANDIDATES = 30
_DESCRIPTION_CHARS = 600


class SearchProductsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=200, description="What the shopper is looking for, in words")
    category: str | None = Field(default=None, description="One of: " + ", ".join(CATEGORIES))
    max_price: float | None = Field(
        default=None, ge=0, description="Highest price in the shop currency (50 = €50)"
    )
    min_price: float | None = Field(default=None, ge=0, description="Lowest price in the shop currency")
    limit: int = Field(default=3, ge=1, le=5)


class ProductInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(pattern=_PRODUCT_ID, description="An id a previous tool result gave")


class CompareProductsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_ids: list[str] = Field(min_length=2, max_length=4, description="Ids from previous tool results")


class ReviewsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(pattern=_PRODUCT_ID)
    limit: int = Field(default=3, ge=1, le=5)


class CheckoutInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(pattern=_PRODUCT_ID, description="An id a previous tool result gave")
    quantity: int = Field(default=1, ge=1, le=MAX_CHECKOUT_QUANTITY)


class DiscountInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$",
        description="The code the shopper gave; leave it out to find the best code they can use",
    )
    product_ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="The products to check it on (default: the chat's cart, else the products on screen)",
    )


class OrderStatusInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=3, ge=1, le=10)


class ToolError(Exception):
    """A call the shop cannot answer (unknown product...): told to the model, never raised to the shopper."""


def _spec(name: str, description: str, model: type[BaseModel]) -> ToolSpec:
    schema = model.model_json_schema()
    schema.pop("title", None)
    return ToolSpec(name=name, description=description, input_schema=schema)


TOOL_SPECS = (
    _spec(
        "search_products",
        "Find products for the shopper. Results are ranked for the shopper's known preferences and only "
        "include products in stock, rated 3.5 or more and within their budget. Each result has the real "
        "price and the reasons it fits.",
        SearchProductsInput,
    ),
    _spec(
        "get_product",
        "Everything the shop knows about one product: description, attributes, best for, avoid when.",
        ProductInput,
    ),
    _spec(
        "compare_products",
        "A side-by-side comparison of 2 to 4 products with a pick for this shopper's profile.",
        CompareProductsInput,
    ),
    _spec("get_reviews", "Customer reviews of one product and its average rating.", ReviewsInput),
)
COMMERCE_TOOL_SPECS = (
    _spec(
        "add_to_cart",
        "Put a product in the shopper's cart for this chat; the shopper gets its checkout link with your "
        "reply. Use it only when the shopper asked to buy.",
        CheckoutInput,
    ),
    _spec(
        "start_checkout",
        "Start the checkout of a product the shopper decided to buy; the checkout link is shown with your "
        "reply, with any discount code offered in this chat applied.",
        CheckoutInput,
    ),
    _spec(
        "apply_discount",
        "Check a discount code the shopper gave, or find the best code they can use, for the products in "
        "question. Only codes this tool returns exist; never mention any other.",
        DiscountInput,
    ),
    _spec("order_status", "The shopper's latest orders: status, total, date and items.", OrderStatusInput),
)


class ToolBox:
    """The tools of one turn, and what they returned: only these products may reach the shopper."""

    def __init__(
        self,
        catalog: ShopCatalog,
        preferences: Preferences,
        language: Language,
        *,
        clock: Clock = utc_now,
        currency: str = "EUR",
        excluded: Collection[str] = (),
        commerce: ShopCommerce | None = None,
        user_id: str = "",
        chat_products: Sequence[str] = (),
        weights: Mapping[str, float] = WEIGHTS,
    ) -> None:
        self._catalog = catalog
        self._weights = weights  # the chat's ranking weights (learned, or its experiment arm's)
        self._commerce = commerce
        self._user_id = user_id
        # What apply_discount checks a code on when the model names no product: cart, else screen.
        self._chat_products = list(chat_products)
        self._excluded = frozenset(excluded)
        self._preferences = preferences
        self._language = language
        self._clock = clock
        self._currency = preferences.budget.currency if preferences.budget else currency
        self.returned: dict[str, Product] = {}
        self.ranked: dict[str, Ranked] = {}
        self.searched: list[str] = []
        self.viewed: list[str] = []
        self.comparison: Comparison | None = None
        self.checkout_request: CheckoutRequest | None = None
        self.offer: CodeOffer | None = None
        self.orders: list[OrderSummary] = []
        self._tools: dict[str, Callable[[Any], Any]] = {
            "search_products": self._search,
            "get_product": self._get_product,
            "compare_products": self._compare,
            "get_reviews": self._reviews,
        }
        self._inputs: dict[str, type[BaseModel]] = {
            "search_products": SearchProductsInput,
            "get_product": ProductInput,
            "compare_products": CompareProductsInput,
            "get_reviews": ReviewsInput,
        }
        if commerce is not None:
            self._tools |= {
                "add_to_cart": self._checkout,
                "start_checkout": self._checkout,
                "apply_discount": self._apply_discount,
                "order_status": self._order_status,
            }
            self._inputs |= {
                "add_to_cart": CheckoutInput,
                "start_checkout": CheckoutInput,
                "apply_discount": DiscountInput,
                "order_status": OrderStatusInput,
            }

    @property
    def specs(self) -> list[ToolSpec]:
        """The tools this turn offers the model."""
        return [*TOOL_SPECS, *(COMMERCE_TOOL_SPECS if self._commerce is not None else ())]

    @property
    def used_commerce(self) -> bool:
        """Whether the turn's answer depends on this shopper's commerce data (so it is not cached)."""
        return self.checkout_request is not None or self.offer is not None or bool(self.orders)

    def run(self, call: ToolCall) -> ToolResult:
        tool = self._tools.get(call.name)
        if tool is None:
            return self._error(call, f"unknown tool {call.name!r}")
        try:
            arguments = self._inputs[call.name].model_validate(call.arguments)
            answer = tool(arguments)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            return self._error(call, f"invalid input: {problems}")
        except ToolError as error:
            return self._error(call, str(error))
        return ToolResult(call_id=call.id, name=call.name, content=json.dumps(answer, ensure_ascii=False))

    @staticmethod
    def _error(call: ToolCall, message: str) -> ToolResult:
        return ToolResult(
            call_id=call.id, name=call.name, content=json.dumps({"error": message}), is_error=True
        )

    # --- tools ---------------------------------------------------------------------------------

    def _search(self, arguments: SearchProductsInput) -> dict[str, Any]:
        preferences = self._narrowed(arguments)
        category = arguments.category if arguments.category in CATEGORIES else None
        category = category or (preferences.categories[0] if len(preferences.categories) == 1 else None)
        budget = preferences.budget
        filters = SearchFilters(
            category=category,
            in_stock=True,
            min_rating=MIN_RATING,
            max_price=budget.max_amount if budget else None,
            min_price=budget.min_amount if budget else None,
        )
        found = self._catalog.search(
            arguments.query, filters=filters, needs=preferences.goals, limit=_SEARCH_CANDIDATES
        )
        products = self._catalog.products([card.id for card in found])
        ranked = rank(
            products.values(),
            preferences,
            language=self._language,
            category=category,
            relevance={card.id: card.relevance for card in found},
            excluded=self._excluded,
            now=self._clock(),
            limit=arguments.limit,
            weights=self._weights,
        )
        self.searched = [choice.product.id for choice in ranked]
        for choice in ranked:
            self._remember(choice.product)
            self.ranked[choice.product.id] = choice
        return {
            "products": [
                {
                    **self._card(choice.product),
                    "why": choice.reasons,
                    "confidence": round(choice.confidence, 2),
                }
                for choice in ranked
            ],
            "note": "No product matches every constraint." if not ranked else None,
        }

    def _get_product(self, arguments: ProductInput) -> dict[str, Any]:
        product = self._product(arguments.product_id)
        if product.id not in self.viewed:
            self.viewed.append(product.id)
        return {
            **self._card(product),
            "description": product.description[:_DESCRIPTION_CHARS],
            "attributes": product.attributes,
            "best_for": product.ai_best_for[:5],
            "avoid_when": product.ai_avoid_when[:5],
            "comparison_points": product.ai_comparison_points,
            "use_cases": product.ai_use_cases[:5],
        }

    def _compare(self, arguments: CompareProductsInput) -> dict[str, Any]:
        ids = list(dict.fromkeys(arguments.product_ids))
        if len(ids) < 2:
            raise ToolError("compare needs two different products")
        products = [self._product(product_id) for product_id in ids]
        self.comparison = compare(
            products, self._preferences, self._language, now=self._clock(), brands=self._catalog.brands()
        )
        return {
            "products": [self._card(product) for product in products],
            "rows": [row.model_dump() for row in self.comparison.rows],
            "recommended_product_id": self.comparison.recommended_product_id,
            "recommendation": self.comparison.recommendation,
        }

    def _reviews(self, arguments: ReviewsInput) -> dict[str, Any]:
        product = self._product(arguments.product_id)
        reviews = sorted(product.reviews, key=lambda review: review.date, reverse=True)[: arguments.limit]
        return {
            "product_id": product.id,
            "name": product.name,
            "rating": product.rating,
            "review_count": len(product.reviews),
            "reviews": [
                {"stars": review.stars, "text": review.text, "date": review.date.isoformat()}
                for review in reviews
            ],
        }

    def _checkout(self, arguments: CheckoutInput) -> dict[str, Any]:
        product = self._product(arguments.product_id)
        if product.stock <= 0:
            raise ToolError(f"{product.name} is sold out")
        if product.stock < arguments.quantity:
            raise ToolError(f"only {product.stock} of {product.name} left")
        self.checkout_request = CheckoutRequest(product_id=product.id, quantity=arguments.quantity)
        return {
            "product": self._card(product),
            "quantity": arguments.quantity,
            "checkout": "ready: the shopper sees the checkout link with your reply",
            "discount_code": self.offer.code if self.offer else None,
        }

    def _apply_discount(self, arguments: DiscountInput) -> dict[str, Any]:
        assert self._commerce is not None
        product_ids = arguments.product_ids or self._chat_products
        if not product_ids:
            raise ToolError("say which products to check the code on")
        products = [self._product(product_id) for product_id in product_ids]
        ids = [product.id for product in products]
        if arguments.code is None:
            offer = self._commerce.offer_for(self._user_id, ids)
            if offer is None:
                return {"code": None, "note": "No discount code applies for this shopper right now."}
        else:
            try:
                offer = self._commerce.check_code(self._user_id, arguments.code, ids)
            except CodeRefused as refused:
                raise ToolError(str(refused)) from refused
        self.offer = offer
        return {
            "code": offer.code,
            "percent_off": offer.percent,
            "amount_off": format_price(offer.amount_off, offer.currency) if offer.amount_off else None,
            "first_order_only": offer.first_order_only,
            "saving": format_price(offer.saving, offer.currency),
            "on_products": [product.name for product in products if product.id in offer.product_ids],
            "note": "The chat's checkout applies this code.",
        }

    def _order_status(self, arguments: OrderStatusInput) -> dict[str, Any]:
        assert self._commerce is not None
        self.orders = self._commerce.recent_orders(self._user_id, arguments.limit)
        return {
            "orders": [
                {
                    "id": order.id,
                    "status": order.status,
                    "total": format_price(order.total, order.currency),
                    "date": order.created_at.date().isoformat(),
                    "items": order.product_names,
                }
                for order in self.orders
            ],
            "note": None if self.orders else "This shopper has no orders.",
        }

    # --- helpers -------------------------------------------------------------------------------

    def _narrowed(self, arguments: SearchProductsInput) -> Preferences:
        """The shopper's preferences, with the call's price range applied only where it is tighter."""
        scale = 10 ** minor_unit_digits(self._currency)
        current = self._preferences.budget
        low = current.min_amount if current else None
        high = current.max_amount if current else None
        if arguments.max_price is not None:
            asked = round(arguments.max_price * scale)
            high = asked if high is None else min(high, asked)
        if arguments.min_price is not None:
            asked = round(arguments.min_price * scale)
            low = asked if low is None else max(low, asked)
        if low is None and high is None:
            return self._preferences
        budget = Budget(
            min_amount=low, max_amount=high, currency=current.currency if current else self._currency
        )
        return self._preferences.model_copy(update={"budget": budget})

    def _product(self, product_id: str) -> Product:
        product = self._catalog.products([product_id]).get(product_id)
        if product is None:
            raise ToolError(f"no product with id {product_id!r}; use ids from search results")
        self._remember(product)
        return product

    def _remember(self, product: Product) -> None:
        self.returned[product.id] = product

    @staticmethod
    def _card(product: Product) -> dict[str, Any]:
        return {
            "id": product.id,
            "name": product.name,
            "brand": product.brand,
            "category": product.category,
            "price": format_price(product.price, product.currency),
            "in_stock": product.stock > 0,
            "rating": product.rating,
        }
