"""Side-by-side comparison of two or more products, with a pick for this shopper's profile.

Rows are the product's own data: price, rating, stock, then the level, weight, shape and play style
attributes that any of them has, then every ``ai_comparison_points`` entry (a product without a point
shows "—"; what a note says about products outside the comparison is cut, see
:mod:`talkshop.advisor.shop_text`). The pick is the product that breaks none of the shopper's hard
constraints and scores best for their preferences (see :mod:`talkshop.advisor.ranking`); when none
passes, the best scorer overall.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from talkshop.advisor.grounding import Money
from talkshop.advisor.intents import Language
from talkshop.advisor.model import Comparison, ComparisonRow
from talkshop.advisor.phrases import rating_text, say, term
from talkshop.advisor.preferences import Preferences
from talkshop.advisor.ranking import attribute_text, reasons, score, violations, weight_grams
from talkshop.advisor.shop_text import names_other_products, quotable_text
from talkshop.catalog.model import Product
from talkshop.clock import utc_now
from talkshop.search.service import format_price

MISSING = "—"


def _rating_cell(product: Product, language: Language) -> str:
    if product.rating is None:
        return say("cell_unrated", language)
    return say("cell_rating", language, rating=rating_text(product.rating), reviews=len(product.reviews))


def _stock_cell(product: Product, language: Language) -> str:
    return (
        say("cell_in_stock", language, stock=product.stock)
        if product.stock > 0
        else say("cell_sold_out", language)
    )


def _grams_cell(product: Product, language: Language) -> str | None:
    grams = weight_grams(product)
    return f"{grams} g" if grams is not None else None


def _attribute_cell(name: str) -> Callable[[Product, Language], str | None]:
    def cell(product: Product, language: Language) -> str | None:
        value = attribute_text(product, name)
        return term(value, language) if value is not None else None

    return cell


_FACT_ROWS: tuple[tuple[str, Callable[[Product, Language], str | None]], ...] = (
    ("row_price", lambda product, _language: format_price(product.price, product.currency)),
    ("row_rating", _rating_cell),
    ("row_stock", _stock_cell),
    ("row_level", _attribute_cell("level")),
    ("row_weight", _grams_cell),
    ("row_shape", _attribute_cell("shape")),
    ("row_style", _attribute_cell("play_style")),
)


def comparison_rows(
    products: Sequence[Product], language: Language, brands: Sequence[str] = ()
) -> list[ComparisonRow]:
    """Fact rows, then the shop's comparison points; ``brands`` find notes' mentions of other products."""
    compared = [product.name for product in products]
    rows: list[ComparisonRow] = []
    for label, cell in _FACT_ROWS:
        values = {product.id: cell(product, language) for product in products}
        if any(value is not None for value in values.values()):
            rows.append(
                ComparisonRow(
                    point=say(label, language),
                    values={key: value if value is not None else MISSING for key, value in values.items()},
                )
            )
    by_label = {row.point.casefold(): row for row in rows}
    points = list(dict.fromkeys(point for product in products for point in product.ai_comparison_points))
    for point in points:
        if names_other_products(point, compared, brands):
            continue  # "vs Vantaro Aero Control": about a product not in this comparison
        notes = {
            product.id: quotable_text(
                product.ai_comparison_points.get(point, ""),
                compared,
                brands,
                Money(product.price, product.currency),
            )
            for product in products
        }
        if not any(notes.values()):
            continue
        same = by_label.get(point.casefold())
        if same is not None:  # the shop's note on a fact row ("Price") joins that row
            for key, note in notes.items():
                if note:
                    same.values[key] = f"{same.values[key]} ({note.rstrip('.')})"
            continue
        rows.append(ComparisonRow(point=point, values={key: note or MISSING for key, note in notes.items()}))
    return rows


def _has_profile(preferences: Preferences) -> bool:
    return preferences != Preferences(categories=preferences.categories)


def compare(
    products: Sequence[Product],
    preferences: Preferences,
    language: Language,
    *,
    now: datetime | None = None,
    brands: Sequence[str] = (),
) -> Comparison:
    """A comparison table of ``products`` (two or more, in the order given) and a pick for this shopper.

    ``brands`` (the catalog's) let the shop's notes lose what they say about products not compared.
    """
    if len(products) < 2:
        raise ValueError("a comparison needs at least two products")
    moment = now or utc_now()

    def preference_order(product: Product) -> tuple[bool, float, float]:
        fit, _ = score(product, preferences, now=moment)
        return (not violations(product, preferences), fit, product.rating or 0.0)

    pick = max(products, key=preference_order)
    why = ", ".join(reasons(pick, preferences, language, now=moment)[:3])
    template = "compare_pick" if _has_profile(preferences) else "compare_pick_plain"
    return Comparison(
        product_ids=[product.id for product in products],
        rows=comparison_rows(products, language, brands),
        recommended_product_id=pick.id,
        recommendation=say(template, language, name=pick.name, reasons=why),
    )


def render(comparison: Comparison, products: Sequence[Product]) -> str:
    """The comparison as plain text lines: one line per row, products by name."""
    names = {product.id: product.name for product in products}
    lines = []
    for row in comparison.rows:
        cells = "; ".join(f"{names[key]}: {value}" for key, value in row.values.items())
        lines.append(f"- {row.point}: {cells}")
    return "\n".join(lines)
