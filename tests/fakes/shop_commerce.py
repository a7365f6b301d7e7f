"""A ShopCommerce for advisor tests: one percentage code (or none) and a fixed list of orders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from talkshop.advisor.model import CodeOffer, CodeRefused, OrderSummary
from talkshop.search.demo_vectors import demo_products

CODE = "WELCOME10"
PRODUCTS = {product.id: product for product in demo_products()}
ORDERS = [
    OrderSummary(
        id="ord_2",
        status="paid",
        total=12990,
        currency="EUR",
        created_at=datetime(2026, 2, 20, 10, tzinfo=UTC),
        product_names=["Vantaro Aero Lite", "Tour Balls"],
    ),
    OrderSummary(
        id="ord_1",
        status="refunded",
        total=4500,
        currency="EUR",
        created_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        product_names=["Grip Pro"],
    ),
]


class FakeCommerce:
    """Offers `percent`% off the first demo product asked about (a first-order code unless told
    otherwise), or nothing when `percent` is None; the shopper's orders are `orders`."""

    def __init__(
        self,
        *,
        percent: int | None = 10,
        first_order_only: bool = True,
        orders: Sequence[OrderSummary] = (),
    ) -> None:
        self.percent = percent
        self.first_order_only = first_order_only
        self.orders = list(orders)
        self.offers_asked: list[list[str]] = []

    def offer_for(self, user_id: str, product_ids: Sequence[str]) -> CodeOffer | None:
        self.offers_asked.append(list(product_ids))
        if self.percent is None or not product_ids:
            return None
        product = PRODUCTS[product_ids[0]]
        return CodeOffer(
            code=CODE,
            percent=self.percent,
            first_order_only=self.first_order_only,
            saving=product.price * self.percent // 100,
            currency=product.currency,
            product_ids=[product.id],
        )

    def check_code(self, user_id: str, code: str, product_ids: Sequence[str]) -> CodeOffer:
        offer = self.offer_for(user_id, product_ids)
        if offer is None or offer.code != code.upper():
            raise CodeRefused(f"There is no discount code {code}.")
        return offer

    def recent_orders(self, user_id: str, limit: int) -> list[OrderSummary]:
        return self.orders[:limit]
