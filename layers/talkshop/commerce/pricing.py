"""Pricing a cart: goods, the discount spread over the lines it covers, shipping and tax. Pure integer
arithmetic in minor units; the same quote is shown before checkout and charged by it.

Shipping options are flat amounts in minor units of the order's currency (so 495 is €4.95 or ¥495);
standard shipping is free once the goods, after the discount, reach its threshold. Tax goes through a
hook: the default shop quotes prices that include VAT, so nothing is added on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from talkshop.commerce.model import Address, CartLine, Quote, QuoteLine, ShippingOption
from talkshop.errors import InvalidInput
from talkshop.search.service import format_price

SHIPPING_OPTIONS: dict[str, ShippingOption] = {
    option.id: option
    for option in (
        ShippingOption(id="standard", name="Standard", amount=495, free_from=5000, delivery_days=(2, 4)),
        ShippingOption(id="express", name="Express", amount=995, delivery_days=(1, 2)),
    )
}
DEFAULT_SHIPPING = "standard"


def shipping_option(option_id: str) -> ShippingOption:
    option = SHIPPING_OPTIONS.get(option_id)
    if option is None:
        raise InvalidInput(
            f"Unknown shipping option {option_id!r}; choose one of {', '.join(SHIPPING_OPTIONS)}.",
            code="unknown_shipping_option",
        )
    return option


class TaxPolicy(Protocol):
    """Tax added on top of the goods and shipping (minor units); the hook for shops that need it."""

    def tax(
        self, lines: Sequence[QuoteLine], shipping: int, currency: str, address: Address | None
    ) -> int: ...


class PricesIncludeTax:
    """The default: shelf prices already include VAT, so the quote adds none."""

    def tax(self, lines: Sequence[QuoteLine], shipping: int, currency: str, address: Address | None) -> int:
        return 0


def saving_text(amount: int, currency: str) -> str:
    return f"You saved {format_price(amount, currency)}"


def spread(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights`, in whole minor units that add up to `total` exactly
    (largest remainders get the leftover units, earlier lines first on ties)."""
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    shares = [total * weight // whole for weight in weights]
    remainders = sorted(range(len(weights)), key=lambda index: (-(total * weights[index] % whole), index))
    for index in remainders[: total - sum(shares)]:
        shares[index] += 1
    return shares


def quote(
    lines: Sequence[CartLine],
    *,
    shipping: ShippingOption,
    discount: int = 0,
    discounted_lines: Sequence[bool] | None = None,
    discount_code: str | None = None,
    tax: TaxPolicy | None = None,
    address: Address | None = None,
) -> Quote:
    """The quote of non-empty lines of one currency. `discount` (minor units) is spread over the lines
    flagged in `discounted_lines` (all of them when not given)."""
    currency = lines[0].currency
    covered = list(discounted_lines) if discounted_lines is not None else [True] * len(lines)
    shares = spread(discount, [line.amount if flag else 0 for line, flag in zip(lines, covered, strict=True)])
    quote_lines = [
        QuoteLine(
            product_id=line.product_id,
            creator_id=line.creator_id,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            discount=share,
        )
        for line, share in zip(lines, shares, strict=True)
    ]
    subtotal = sum(line.amount for line in lines)
    goods = subtotal - discount
    free = shipping.free_from is not None and goods >= shipping.free_from
    shipping_amount = 0 if free else shipping.amount
    added_tax = (tax or PricesIncludeTax()).tax(quote_lines, shipping_amount, currency, address)
    return Quote(
        currency=currency,
        lines=quote_lines,
        subtotal=subtotal,
        discount=discount,
        shipping=shipping_amount,
        shipping_option=shipping.id,
        tax=added_tax,
        total=goods + shipping_amount + added_tax,
        discount_code=discount_code if discount else None,
        saving_text=saving_text(discount, currency) if discount else None,
    )
