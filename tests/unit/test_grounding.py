"""Grounding checks: invented prices and unreturned product names are found, and corrected or dropped."""

from __future__ import annotations

import pytest

from talkshop.advisor.grounding import ErrorKind, Money, correct, find_grounding_errors
from talkshop.catalog.model import Product
from talkshop.search.demo_vectors import demo_products

PRODUCTS = {product.id: product for product in demo_products()}
NAMES = {product.id: product.name for product in PRODUCTS.values()}
BRANDS = sorted({product.brand for product in PRODUCTS.values()})
FEATHER = "vantaro-feather-330"  # €64.95
AERO = "vantaro-aero-lite"  # €59.95


def returned(*ids: str) -> dict[str, Product]:
    return {product_id: PRODUCTS[product_id] for product_id in ids}


@pytest.mark.parametrize(
    "written",
    ["€64.95", "€ 64.95", "64,95 €", "64.95€", "EUR 64.95", "64.95 EUR", "64,95 euros", "€65", "65 EUR"],
)
def test_the_real_price_in_any_format_is_grounded(written: str) -> None:
    text = f"The Vantaro Feather 330 costs {written}."
    assert find_grounding_errors(text, returned(FEATHER), NAMES) == []


@pytest.mark.parametrize("written", ["€59.95", "$64.95", "€10", "10 EUR", "1.299,00 €", "£64.95", "€66"])
def test_a_price_that_is_not_the_products_is_an_error(written: str) -> None:
    text = f"The Vantaro Feather 330 costs {written}."
    errors = find_grounding_errors(text, returned(FEATHER, AERO), NAMES)
    assert [(error.kind, error.text) for error in errors] == [(ErrorKind.PRICE, written)]


def test_another_returned_products_price_is_fine_when_the_sentence_names_both_or_none() -> None:
    products = returned(FEATHER, AERO)
    assert find_grounding_errors("Feather 330 at €64.95 or Aero Lite at €59.95.", products, NAMES) == []
    assert find_grounding_errors("Both are under €70: €59.95 and €64.95.", products, NAMES)[0].text == "€70"
    assert find_grounding_errors("Prices: €59.95 and €64.95.", products, NAMES) == []


def test_differences_and_the_shoppers_own_amounts_are_grounded() -> None:
    products = returned(FEATHER, AERO)
    text = "The Aero Lite is €5 cheaper than the Feather 330. Your budget of 50 euros is close."
    errors = find_grounding_errors(text, products, NAMES)
    assert [error.text for error in errors] == ["50 euros"]
    assert find_grounding_errors(text, products, NAMES, allowed=[Money(5000, "EUR")]) == []


def test_numbers_without_a_currency_are_not_prices() -> None:
    text = "The Vantaro Feather 330 weighs 330 g and has 12 layers; 3 pack of balls."
    assert find_grounding_errors(text, returned(FEATHER), NAMES) == []


def test_catalog_products_the_tools_did_not_return_are_errors() -> None:
    text = "Try the Vantaro Feather 330. The kestrel glide 100 is also nice, and so is the Lefty Control."
    errors = find_grounding_errors(text, returned(FEATHER), NAMES, brands=BRANDS)
    assert [(error.kind, error.product_id) for error in errors] == [
        (ErrorKind.PRODUCT, "kestrel-glide-100"),
        (ErrorKind.PRODUCT, "courtcraft-lefty-control"),
    ]


def test_the_longest_name_wins_and_short_forms_need_the_catalogs_capitals() -> None:
    assert {"vantaro-strike-pro-18k", "vantaro-strike-12k"} <= NAMES.keys()
    text = "The Vantaro Strike Pro 18K is stiff. I am no pro at aero lite things."
    errors = find_grounding_errors(text, returned(AERO), NAMES, brands=BRANDS)
    assert [error.product_id for error in errors] == ["vantaro-strike-pro-18k"]


def test_correct_replaces_a_wrong_price_with_the_real_one() -> None:
    text = "The Vantaro Feather 330 costs €59.95 and is light. Aero Lite: €59.95."
    fixed = correct(text, returned(FEATHER, AERO), NAMES)
    assert fixed.text == "The Vantaro Feather 330 costs €64.95 and is light. Aero Lite: €59.95."
    assert (fixed.replaced, fixed.removed_sentences) == (1, 0)


def test_correct_drops_sentences_it_cannot_fix() -> None:
    text = (
        "Here are two picks.\n- Vantaro Feather 330: €64.95\n- Kestrel Glide 100: €80\n"
        "Both cost around €30 less than a pro racket. Happy playing!"
    )
    fixed = correct(text, returned(FEATHER, AERO), NAMES, brands=BRANDS)
    assert fixed.text == "Here are two picks.\n- Vantaro Feather 330: €64.95\nHappy playing!"
    assert fixed.removed_sentences == 2
    assert find_grounding_errors(fixed.text, returned(FEATHER, AERO), NAMES) == []


def test_correct_leaves_grounded_text_alone() -> None:
    text = "The Vantaro Aero Lite costs €59.95."
    assert correct(text, returned(AERO), NAMES).text == text


def test_without_the_catalog_brands_catch_invented_and_unreturned_product_names() -> None:
    text = "Try the Vantaro Feather (light). Or the Vantaro Turbo X, or a Kestrel Glide 100. Vantaro lasts."
    errors = find_grounding_errors(text, returned(FEATHER), brands=BRANDS)
    assert [(error.kind, error.text, error.product_id) for error in errors] == [
        (ErrorKind.PRODUCT, "Vantaro Turbo X", None),
        (ErrorKind.PRODUCT, "Kestrel Glide 100", None),
    ]


def test_brands_given_as_a_one_pass_iterable_still_catch_an_invented_name_after_a_priced_sentence() -> None:
    # The price sentence reads the brands first; a generator must not be used up by then.
    text = "The Vantaro Feather 330 costs €64.95. The Vantaro Turbo X is lighter."
    errors = find_grounding_errors(text, returned(FEATHER), brands=iter(BRANDS))
    assert [(error.kind, error.text) for error in errors] == [(ErrorKind.PRODUCT, "Vantaro Turbo X")]
    fixed = correct(text, returned(FEATHER), brands=iter(BRANDS))
    assert fixed.text == "The Vantaro Feather 330 costs €64.95."
