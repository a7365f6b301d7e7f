"""Discount codes: the rules that decide whether a code applies and how much it takes off, and the
use cases around them (create, list, check at checkout, redeem, find one the advisor can offer).

Rules, in the order a shopper is told about them: the code exists; its validity window has started and
not ended; it has uses left in all and for this customer; a first-time-buyer code needs a customer with
no paid order yet; a fixed amount is in the cart's currency; at least one line is in its scope (its
products or creators; an unscoped code covers the whole cart). A percentage is taken off the lines in
scope and rounded down to the minor unit; a fixed amount never exceeds what the lines in scope cost.

Creators issue codes for their own products only; the admin issues codes for anything. Limits are
enforced when the order is written, by conditional counters in the same transaction (see store.py):
checking them earlier only gives the shopper an early answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from talkshop.auth import Principal, PrincipalKind
from talkshop.catalog.model import ProductStatus
from talkshop.catalog.service import product_from_stored, product_ref
from talkshop.clock import Clock, utc_now
from talkshop.commerce.model import (
    CODE_PATTERN,
    CartLine,
    Discount,
    DiscountFields,
    DiscountKind,
    DiscountList,
    normal_code,
)
from talkshop.commerce.store import MARKETPLACE, CommerceStore
from talkshop.errors import Conflict, Forbidden, InvalidInput, NotFound
from talkshop.search.service import format_price


class DiscountRefused(InvalidInput):
    """A code that does not apply to this cart and shopper; `code` says which rule refused it."""

    code = "discount_not_applicable"


def amount_off(discount: Discount, lines: Sequence[CartLine]) -> int:
    """What the code takes off these lines (minor units), before any limit or window is checked."""
    in_scope = sum(line.amount for line in lines if discount.covers(line))
    if discount.kind == DiscountKind.PERCENT:
        return in_scope * discount.value // 100
    return min(discount.value, in_scope)


@dataclass(frozen=True)
class Shopper:
    """What the rules need to know about who is buying."""

    user_id: str
    first_time_buyer: bool
    uses_of_code: int


def check(discount: Discount, lines: Sequence[CartLine], shopper: Shopper, now: datetime) -> int:
    """The amount the code takes off, or DiscountRefused naming the rule that refuses it."""
    code = discount.code
    if discount.valid_from and now < discount.valid_from:
        raise DiscountRefused(f"The code {code} is not valid yet.", code="discount_not_started")
    if discount.valid_until and now >= discount.valid_until:
        raise DiscountRefused(f"The code {code} has expired.", code="discount_expired")
    if discount.max_uses is not None and discount.uses >= discount.max_uses:
        raise DiscountRefused(f"The code {code} has been used up.", code="discount_used_up")
    if discount.max_uses_per_customer is not None and shopper.uses_of_code >= discount.max_uses_per_customer:
        raise DiscountRefused(f"You have already used the code {code}.", code="discount_limit_reached")
    # Used once already is a first order too, even one that was never paid (see Discount.uses_per_customer).
    if discount.first_time_only and (not shopper.first_time_buyer or shopper.uses_of_code > 0):
        raise DiscountRefused(f"The code {code} is for a first order only.", code="discount_first_order_only")
    currency = lines[0].currency if lines else None
    if discount.kind == DiscountKind.FIXED and discount.currency != currency:
        raise DiscountRefused(
            f"The code {code} is an amount in {discount.currency}; this cart is in {currency}.",
            code="discount_currency_mismatch",
        )
    if not any(discount.covers(line) for line in lines):
        raise DiscountRefused(f"The code {code} does not apply to anything in this cart.")
    return amount_off(discount, lines)


def describe(discount: Discount) -> str:
    """How the advisor and the checkout name a code's deal: "10% off for first-time buyers"."""
    if discount.kind == DiscountKind.PERCENT:
        deal = f"{discount.value}% off"
    else:
        deal = f"{format_price(discount.value, discount.currency or '')} off"
    return f"{deal} for first-time buyers" if discount.first_time_only else deal


def covered_products(discount: Discount, lines: Sequence[CartLine]) -> list[str]:
    """The products among these lines that the code takes something off."""
    return [line.product_id for line in lines if discount.covers(line)]


@dataclass(frozen=True)
class DiscountOffer:
    """A code the advisor may offer a shopper, with what it would save on the products in question
    and which of them it covers (a creator's code on a mix of creators' products covers only theirs)."""

    discount: Discount
    saving: int
    currency: str
    summary: str
    product_ids: list[str]


def _not_found(code: str) -> DiscountRefused:
    return DiscountRefused(f"There is no discount code {code}.", code="discount_not_found")


class DiscountService:
    def __init__(self, store: CommerceStore, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock

    # Issuing

    def create(self, fields: DiscountFields, principal: Principal) -> Discount:
        principal.require_signed_in()
        if principal.kind == PrincipalKind.CREATOR:
            assert principal.person_id is not None
            fields = self._scoped_to_creator(fields, principal.person_id)
            issuer: str | None = principal.person_id
        elif principal.is_admin:
            self._require_products_exist(fields.product_ids)
            issuer = None
        else:
            raise Forbidden("Discount codes are issued by creators and the admin.", code="not_an_issuer")
        now = self.clock()
        discount = Discount(**fields.model_dump(), creator_id=issuer, created_at=now)
        work = self.store.repository.unit_of_work()
        self.store.discounts.stage_create(
            work,
            discount,
            now,
            on_exists=lambda: Conflict(f"The code {discount.code} is taken.", code="discount_exists"),
        )
        work.commit()
        return discount

    def _scoped_to_creator(self, fields: DiscountFields, creator_id: str) -> DiscountFields:
        """A creator's code covers their own products only: by default all of them."""
        if any(other != creator_id for other in fields.creator_ids):
            raise Forbidden("A creator's code may only cover that creator's products.", code="not_owner")
        owners = self._require_products_exist(fields.product_ids)
        if any(owner != creator_id for owner in owners.values()):
            raise Forbidden("A creator's code may only cover that creator's products.", code="not_owner")
        if not fields.product_ids and not fields.creator_ids:
            return fields.model_copy(update={"creator_ids": [creator_id]})
        return fields

    def _require_products_exist(self, product_ids: Sequence[str]) -> dict[str, str]:
        """Product id -> its creator, for every product named (422 if one does not exist)."""
        found = self.store.repository.get_many([product_ref(product_id) for product_id in product_ids])
        owners = {ref.id: product_from_stored(stored).creator_id for ref, stored in found.items()}
        missing = [product_id for product_id in product_ids if product_id not in owners]
        if missing:
            raise InvalidInput(
                f"No such products: {', '.join(missing)}.",
                code="unknown_product",
                details={"missing": missing},
            )
        return owners

    def list_discounts(
        self, principal: Principal, *, creator_id: str | None, limit: int, cursor: str | None
    ) -> DiscountList:
        principal.require_signed_in()
        if principal.kind == PrincipalKind.CREATOR:
            if creator_id not in (None, principal.person_id):
                raise Forbidden("A creator sees only their own codes.", code="not_owner")
            creator_id = principal.person_id
        elif not principal.is_admin:
            raise Forbidden("Discount codes are listed for creators and the admin.", code="not_an_issuer")
        items, next_cursor = self.store.discounts_page(creator_id, limit=limit, cursor=cursor)
        return DiscountList(items=items, next_cursor=next_cursor)

    # Using

    def shopper(self, user_id: str, code: str) -> Shopper:
        return Shopper(
            user_id=user_id,
            first_time_buyer=not self.store.has_paid_order(user_id),
            uses_of_code=self.store.customer_uses(code, user_id),
        )

    def apply(self, code: str, lines: Sequence[CartLine], user_id: str) -> tuple[Discount, int]:
        """The code (in any case) and what it takes off these lines for this shopper, or DiscountRefused."""
        discount = self._find(code)
        if discount is None:
            raise _not_found(code)
        return discount, check(discount, lines, self.shopper(user_id, discount.code), self.clock())

    def require(self, code: str) -> Discount:
        discount = self._find(code)
        if discount is None:
            raise NotFound(f"There is no discount code {code}.", code="discount_not_found")
        return discount

    def _find(self, code: str) -> Discount | None:
        """The code as stored, whatever its case; None also for text no code can be (e.g. "10% OFF")."""
        normal = normal_code(code)
        return self.store.discount(normal) if re.fullmatch(CODE_PATTERN, normal) else None

    # Offering (the advisor)

    def offer_for(self, user_id: str, product_ids: Sequence[str]) -> DiscountOffer | None:
        """The code that saves this shopper most on one of each of some products, or None.

        Candidates are the codes of the products' creators and the marketplace's own; each is checked
        with every rule (window, limits, first order, currency, scope), so what is offered applies.
        """
        lines = self.lines_of(product_ids)
        if not lines:
            return None
        issuers = dict.fromkeys([*(line.creator_id for line in lines), MARKETPLACE])
        now = self.clock()
        first_time_buyer = not self.store.has_paid_order(user_id)
        best: DiscountOffer | None = None
        for issuer in issuers:
            for discount in self.store.discounts_issued_by(issuer):
                shopper = Shopper(user_id, first_time_buyer, self.store.customer_uses(discount.code, user_id))
                try:
                    saving = check(discount, lines, shopper, now)
                except DiscountRefused:
                    continue
                if saving > 0 and (best is None or saving > best.saving):
                    best = DiscountOffer(
                        discount,
                        saving,
                        lines[0].currency,
                        describe(discount),
                        covered_products(discount, lines),
                    )
        return best

    def lines_of(self, product_ids: Sequence[str]) -> list[CartLine]:
        """One of each active product, at today's price, in the first product's currency."""
        found = self.store.repository.get_many([product_ref(product_id) for product_id in product_ids])
        products = [product_from_stored(found[ref]) for ref in map(product_ref, product_ids) if ref in found]
        products = [product for product in products if product.status == ProductStatus.ACTIVE]
        if not products:
            return []
        currency = products[0].currency
        return [
            CartLine(
                product_id=product.id,
                creator_id=product.creator_id,
                name=product.name,
                quantity=1,
                unit_price=product.price,
                currency=product.currency,
            )
            for product in products
            if product.currency == currency
        ]
