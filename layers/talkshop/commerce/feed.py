"""Product feeds for agents, built from the active products of the catalog.

Two formats:
- ACP's `products.jsonl` (schema.feed.json of ACP 2026-04-17): one Product object a line, each with one
  variant (our products have no variants), price in minor units, availability from stock;
- OpenAI's flat product feed as CSV: one row a product, price as "89.95 EUR", lower-case booleans.

Links are absolute, under the shop's public URL (TALKSHOP_PUBLIC_URL): there is no storefront page yet,
so a product's link is its API resource, and relative image paths are resolved against the same base.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from talkshop.auth import ANONYMOUS
from talkshop.catalog.model import Product, ProductStatus, minor_unit_digits
from talkshop.catalog.service import CatalogService, ProductQuery

# Below this many units in stock a product is announced as limited: the feed's "limited_stock", a checkout
# session's "low_stock" (talkshop.commerce.acp.sessions), so that both tell an agent the same.
LIMITED_STOCK_THRESHOLD = 5
OPENAI_TITLE_LIMIT = 150
OPENAI_DESCRIPTION_LIMIT = 5000
OPENAI_COLUMNS = (
    "item_id",
    "title",
    "description",
    "url",
    "brand",
    "image_url",
    "additional_image_urls",
    "price",
    "availability",
    "inventory_quantity",
    "product_category",
    "condition",
    "seller_name",
    "seller_url",
    # Required of a product eligible for checkout.
    "seller_privacy_policy",
    "seller_tos",
    "return_policy",
    "product_review_count",
    "product_review_rating",
    "is_eligible_search",
    "is_eligible_checkout",
)


class FeedFormat(StrEnum):
    ACP = "acp"
    OPENAI = "openai"


MEDIA_TYPES = {FeedFormat.ACP: "application/jsonl", FeedFormat.OPENAI: "text/csv"}


@dataclass(frozen=True)
class Shop:
    """Who sells through the feed: the marketplace's name and where its links start."""

    name: str
    public_url: str

    def absolute(self, path_or_url: str) -> str:
        return path_or_url if path_or_url.startswith("https://") else f"{self.public_url}{path_or_url}"

    def product_url(self, product_id: str) -> str:
        return f"{self.public_url}/api/products/{product_id}"

    def policy_url(self, policy: Policy) -> str:
        return f"{self.public_url}/legal/{policy}"


class Policy(StrEnum):
    """The shop's policies, each a page under /legal/ (linked from the feeds and checkout sessions)."""

    TERMS = "terms"
    PRIVACY = "privacy"
    RETURNS = "returns"


def display_price(amount: int, currency: str) -> str:
    """A minor-unit amount as OpenAI's feed writes prices: "89.95 EUR", "1200 JPY"."""
    digits = minor_unit_digits(currency)
    return f"{Decimal(amount).scaleb(-digits):.{digits}f} {currency}"


def availability_status(stock: int) -> str:
    if stock <= 0:
        return "out_of_stock"
    return "limited_stock" if stock < LIMITED_STOCK_THRESHOLD else "in_stock"


def _description(product: Product) -> str:
    return product.description or product.ai_description


def policy_links(shop: Shop) -> list[dict[str, str]]:
    """The shop's policies as the ACP feed's seller links (the shop is the merchant of record)."""
    return [
        {"type": "privacy_policy", "url": shop.policy_url(Policy.PRIVACY)},
        {"type": "terms_of_service", "url": shop.policy_url(Policy.TERMS)},
        {"type": "refund_policy", "url": shop.policy_url(Policy.RETURNS)},
    ]


def acp_product(product: Product, seller_name: str, shop: Shop) -> dict[str, Any]:
    """One line of products.jsonl: the product with its single variant."""
    url = shop.product_url(product.id)
    media = [
        {"type": "image", "url": shop.absolute(image.url), "alt_text": image.alt} for image in product.images
    ]
    variant: dict[str, Any] = {
        "id": product.id,
        "title": product.name,
        "url": url,
        "price": {"amount": product.price, "currency": product.currency},
        "availability": {"available": product.stock > 0, "status": availability_status(product.stock)},
        "categories": [{"value": product.category, "taxonomy": "merchant"}],
        "condition": ["new"],
        "seller": {"name": seller_name},
        "marketplace": {"name": shop.name, "links": policy_links(shop)},
    }
    line: dict[str, Any] = {"id": product.id, "title": product.name, "url": url, "variants": [variant]}
    if description := _description(product):
        line["description"] = {"plain": description}
        variant["description"] = {"plain": description}
    if media:
        line["media"] = media
        variant["media"] = media[:1]
    return line


def openai_row(product: Product, seller_name: str, shop: Shop) -> dict[str, str]:
    images = [shop.absolute(image.url) for image in product.images]
    return {
        "item_id": product.id,
        "title": product.name[:OPENAI_TITLE_LIMIT],
        "description": _description(product)[:OPENAI_DESCRIPTION_LIMIT],
        "url": shop.product_url(product.id),
        "brand": product.brand,
        "image_url": images[0] if images else "",
        "additional_image_urls": ",".join(images[1:]),
        "price": display_price(product.price, product.currency),
        "availability": "in_stock" if product.stock > 0 else "out_of_stock",
        "inventory_quantity": str(product.stock),
        "product_category": product.category,
        "condition": "new",
        "seller_name": seller_name,
        "seller_url": shop.public_url,
        "seller_privacy_policy": shop.policy_url(Policy.PRIVACY),
        "seller_tos": shop.policy_url(Policy.TERMS),
        "return_policy": shop.policy_url(Policy.RETURNS),
        "product_review_count": str(len(product.reviews)),
        "product_review_rating": "" if product.rating is None else f"{product.rating:g}",
        "is_eligible_search": "true",
        # Every active product can be bought through /acp; one out of stock says so by availability.
        "is_eligible_checkout": "true",
    }


class FeedExporter:
    def __init__(self, catalog: CatalogService, shop: Shop) -> None:
        self.catalog = catalog
        self.shop = shop

    def active_products(self) -> Iterator[Product]:
        """Every active product, as the public catalog lists them (page by page, never all in one read)."""
        cursor: str | None = None
        while True:
            page = self.catalog.list_products(
                ProductQuery(status=ProductStatus.ACTIVE, limit=100, cursor=cursor), ANONYMOUS
            )
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def export(self, feed_format: FeedFormat) -> str:
        products = sorted(self.active_products(), key=lambda product: product.id)
        sellers = self._seller_names({product.creator_id for product in products})
        if feed_format == FeedFormat.ACP:
            return "".join(
                json.dumps(acp_product(product, sellers[product.creator_id], self.shop), ensure_ascii=False)
                + "\n"
                for product in products
            )
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=OPENAI_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for product in products:
            writer.writerow(openai_row(product, sellers[product.creator_id], self.shop))
        return buffer.getvalue()

    def _seller_names(self, creator_ids: set[str]) -> dict[str, str]:
        names = {}
        for creator_id in creator_ids:
            creator = self.catalog.creators.get(creator_id)
            names[creator_id] = creator.name if creator else creator_id
        return names
