"""The shop's text quoted without what it says about other products."""

from __future__ import annotations

import pytest

from talkshop.advisor.grounding import Money
from talkshop.advisor.shop_text import names_other_products, quotable_text, without_other_products

BRANDS = ["Vantaro", "Kestrel", "Nordpala", "Brisa", "CourtCraft", "Sol Padel", "Smash Academy"]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            "Anti-vibration handle: softer feel than the Vantaro Strike 12K.",
            "Anti-vibration handle: softer feel.",
        ),
        (
            "380 g, among the heaviest rackets in the catalog; only the Brisa Tramontana and "
            "CourtCraft Forge Diamond are heavier.",
            "380 g, among the heaviest rackets in the catalog.",
        ),
        (
            "A touch more controllable than the heavier 380-385 g diamonds (Nordpala Polar Power, CourtCraft "
            "Forge Diamond, Brisa Tramontana).",
            "A touch more controllable than the heavier 380-385 g diamonds.",
        ),
        (
            "Slower to manoeuvre than lighter diamonds such as the Sol Padel Fuego (372 g).",
            "Slower to manoeuvre than lighter diamonds.",
        ),
        ("Sold out; Vantaro Tour Bag is in stock.", "Sold out."),
        ("€65, the cheapest bag with a thermal compartment after the Nordpala Thermal Duo.", "€65."),
        ("Medium, between the slow Sol Padel Altitude and the fast Vantaro Tour.", "Medium."),
        ("Alongside the Brisa Tramontana.", ""),
    ],
)
def test_mentions_of_other_products_are_cut(text: str, kept: str) -> None:
    assert without_other_products(text, ["Kestrel Dive 500"], BRANDS) == kept


def test_text_about_allowed_products_or_none_is_unchanged() -> None:
    text = "Softer feel than the Vantaro Strike 12K; €5.95 for the Kestrel Dive 500."
    assert without_other_products(text, ["Vantaro Strike 12K", "Kestrel Dive 500"], BRANDS) == text
    assert (
        without_other_products("Large sweet spot, forgiving.", [], BRANDS) == "Large sweet spot, forgiving."
    )
    assert without_other_products(text, [], []) == text  # no brands known: nothing to recognise


def test_a_shortened_name_of_an_allowed_product_is_allowed() -> None:
    assert not names_other_products("vs Vantaro Strike", ["Vantaro Strike 12K"], BRANDS)
    assert names_other_products("vs Vantaro Aero Control", ["Vantaro Aero Lite"], BRANDS)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("€4.99 per tube, the cheapest in the catalog.", "the cheapest in the catalog."),
        ("Good value (€20 less than the old model); durable felt.", "Good value; durable felt."),
        ("At €39 the cheapest racket in the catalog", "At €39 the cheapest racket in the catalog"),
        ("€39.00, the cheapest racket.", "€39.00, the cheapest racket."),
        ("Only €12.50 a tube.", ""),
        ("No prices here at all.", "No prices here at all."),
    ],
)
def test_clauses_stating_another_price_than_the_products_are_cut(text: str, kept: str) -> None:
    assert quotable_text(text, ["Sol Padel Siesta"], BRANDS, Money(3900, "EUR")) == kept


def test_quotable_text_also_cuts_other_products() -> None:
    text = "A softer feel than the Vantaro Strike 12K; €10 cheaper than it was."
    assert quotable_text(text, ["Sol Padel Siesta"], BRANDS, Money(3900, "EUR")) == "A softer feel."
