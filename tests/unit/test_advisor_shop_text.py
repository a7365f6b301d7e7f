"""The shop's text quoted without what it says about other products."""

from __future__ import annotations

import pytest

from talkshop.advisor.shop_text import names_other_products, without_other_products

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
