"""Write bench/data/search-judgments.json: graded relevance judgments for bench/search.py.

Run: .venv/bin/python bench/make_judgments.py

Every query comes with a rule over the catalog's own data (category, attributes, price, the audience
and best-for lists of the demo catalog, the Magento attributes and descriptions of the Luma extract)
that grades every product of its catalog, then with the manual corrections of a human review (the
``overrides`` of a query, each with its reason). The rules never look at what a search system
returned; the review read the graded lists and the pooled top 10 of every system measured, and
corrected the rules where a product was obviously misjudged. See bench/data/README.md.

Grades: 3 exactly what the shopper asked for; 2 a good answer (a close substitute, or fits all but a
soft wish); 1 related but misses something the shopper stated (wrong level, over the budget by less
than half, the right family but not the asked type); 0 (not written) irrelevant.
"""

# ruff: noqa: E501 - the query table reads best one rule per line
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talkshop.text import fold

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = {
    "demo": ROOT / "layers" / "talkshop" / "demo" / "catalog.json",
    "luma": ROOT / "bench" / "data" / "luma-products.json",
}
TARGET = ROOT / "bench" / "data" / "search-judgments.json"
KINDS = ("need", "price", "typo", "synonym", "attribute", "vague", "no-answer")


@dataclass(frozen=True)
class Item:
    """A product as the rules see it: folded texts, prices in major units."""

    id: str
    name: str
    category: str
    price: float
    stock: int
    attributes: dict[str, str]
    audience: str
    text: str

    @classmethod
    def of(cls, product: dict[str, Any]) -> Item:
        attributes = {key: fold(str(value)) for key, value in product.get("attributes", {}).items()}
        ai_lists = [
            *product.get("ai_use_cases", []),
            *product.get("ai_target_audience", []),
            *product.get("ai_best_for", []),
        ]
        text = " ".join(
            [
                product["name"],
                product.get("description", ""),
                product.get("ai_description", ""),
                *ai_lists,
                *product.get("ai_keywords", []),
                *product.get("ai_tags", []),
                *attributes.values(),
            ]
        )
        return cls(
            id=product["id"],
            name=fold(product["name"]),
            category=product["category"],
            price=product["price"] / 100,
            stock=product.get("stock", 0),
            attributes=attributes,
            audience=fold(" | ".join(ai_lists)),
            text=fold(text),
        )

    def attr(self, name: str) -> str:
        return self.attributes.get(name, "")

    def has(self, *patterns: str) -> bool:
        """Any of the regular expressions occurs in the product's whole text."""
        return any(re.search(pattern, self.text) for pattern in patterns)


Rule = Callable[[Item], int]


@dataclass
class Query:
    catalog: str
    kind: str
    query: str
    rule_text: str
    rule: Rule
    overrides: dict[str, tuple[int, str]] = field(default_factory=dict)


def in_category(*categories: str) -> Callable[[Item], bool]:
    return lambda item: item.category in categories


def budget(price: float, limit: float, inside: int, outside: int = 1) -> int:
    """`inside` within the limit, `outside` up to 1.5x the limit, else 0."""
    if price <= limit:
        return inside
    return outside if price <= 1.5 * limit else 0


racket = in_category("padel-rackets")
shoes = in_category("padel-shoes")
bags = in_category("padel-bags")
balls = in_category("padel-balls")
grips = in_category("grips-overgrips")
lessons = in_category("padel-lessons")
coffee = in_category("coffee-gear")
padel = in_category(
    "padel-rackets", "padel-shoes", "padel-bags", "padel-balls", "grips-overgrips", "padel-lessons"
)


def level(item: Item) -> str:
    return item.attr("level")


def beginner_racket(item: Item) -> int:
    if not racket(item):
        return 0
    if level(item) == "beginner":
        return 3
    return 1 if "beginner" in item.audience else 0


def overgrip(item: Item) -> bool:
    return grips(item) and "overgrip" in item.name


def grinder(item: Item) -> bool:
    return coffee(item) and item.attr("type") == "grinder"


def beans(item: Item) -> bool:
    return coffee(item) and item.attr("type") == "beans"


def demo_queries() -> list[Query]:
    return [
        # --- needs in plain words
        Query(
            "demo",
            "need",
            "good racket for beginners",
            "beginner-level rackets 3; rackets whose audience mentions beginners 1",
            beginner_racket,
        ),
        Query(
            "demo",
            "need",
            "something that won't hurt my elbow",
            "rackets for players with tennis elbow 3; grips for tennis elbow 2; other soft beginner control rackets 1",
            lambda i: (
                3
                if racket(i) and "tennis elbow" in i.audience
                else 2
                if grips(i) and "tennis elbow" in i.audience
                else 1
                if racket(i) and level(i) == "beginner" and "soft" in i.attr("core")
                else 0
            ),
        ),
        Query(
            "demo",
            "need",
            "I just started playing padel, what should I buy?",
            "beginner rackets 3; padel products whose audience names beginners (shoes, balls, bags, grips, lessons) 2",
            lambda i: (
                3
                if racket(i) and level(i) == "beginner"
                else 2
                if padel(i) and not racket(i) and "beginner" in i.audience
                else 0
            ),
        ),
        Query(
            "demo",
            "need",
            "racket for a left-handed player",
            "rackets for left-handed players 3; other rackets 1",
            lambda i: (
                (3 if "left-handed" in i.audience or "left-handed" in i.text else 1) if racket(i) else 0
            ),
        ),
        Query(
            "demo",
            "need",
            "lessons for a complete beginner",
            "beginner-level lessons 3; all-level lessons whose audience names beginners 2",
            lambda i: (
                (3 if level(i) == "beginner" else 2 if "beginner" in i.audience else 0) if lessons(i) else 0
            ),
        ),
        Query(
            "demo",
            "need",
            "racket with lots of power for smashes",
            "power rackets 3; all-round advanced or pro rackets 1",
            lambda i: (
                (
                    3
                    if i.attr("play_style") == "power"
                    else 1
                    if i.attr("play_style") == "all-round" and level(i) in ("advanced", "pro")
                    else 0
                )
                if racket(i)
                else 0
            ),
        ),
        Query(
            "demo",
            "need",
            "shoes for wide feet",
            "wide-fit shoes 3; other adult shoes 1",
            lambda i: (3 if i.attr("width") == "wide" else 1) if shoes(i) else 0,
            {"nordpala-junior-clay": (0, "a junior shoe, sizes 30-38")},
        ),
        Query(
            "demo",
            "need",
            "protect my rackets from the heat in the car",
            "bags with a thermal compartment 3; other racket bags 1",
            lambda i: (3 if i.attr("thermal_compartment") == "true" else 1) if bags(i) else 0,
        ),
        Query(
            "demo",
            "need",
            "grip for sweaty hands",
            "grips made for sweaty hands 3; other overgrips and base grips 1",
            lambda i: (3 if "sweaty" in i.text else 1) if grips(i) else 0,
        ),
        Query(
            "demo",
            "need",
            "coffee without caffeine for the evening",
            "decaf beans 3; other beans 1",
            lambda i: (3 if "decaf" in i.text else 1) if beans(i) else 0,
        ),
        # --- price phrases
        Query(
            "demo",
            "price",
            "padel racket under 60 euros",
            "rackets up to 60 EUR 3; up to 90 EUR 1",
            lambda i: budget(i.price, 60, 3) if racket(i) else 0,
        ),
        Query(
            "demo",
            "price",
            "cheap padel balls",
            "balls at 2.00 EUR a ball or less 3; other balls 2",
            lambda i: (3 if i.price / int(i.attr("pack_size") or 1) <= 2.0 else 2) if balls(i) else 0,
        ),
        Query(
            "demo",
            "price",
            "coffee grinder between 100 and 250 euros",
            "grinders from 100 to 250 EUR 3; other grinders 1",
            lambda i: (3 if 100 <= i.price <= 250 else 1) if grinder(i) else 0,
        ),
        Query(
            "demo",
            "price",
            "padel shoes under €80",
            "adult shoes up to 80 EUR 3; the junior shoe up to 80 EUR 2; shoes up to 120 EUR 1",
            lambda i: (budget(i.price, 80, 2 if "junior" in i.name else 3)) if shoes(i) else 0,
        ),
        Query(
            "demo",
            "price",
            "best racket for a pro, over 250 euros",
            "pro rackets above 250 EUR 3; pro rackets below 1; advanced rackets above 250 EUR 1",
            lambda i: (
                (3 if level(i) == "pro" and i.price > 250 else 1 if level(i) == "pro" or i.price > 250 else 0)
                if racket(i)
                else 0
            ),
        ),
        Query(
            "demo",
            "price",
            "racket bag around 60 euros",
            "racket bags from 51 to 69 EUR ('around' is 15 % either side) 3; bags from 40 to 80 EUR 1",
            lambda i: (
                (3 if 51 <= i.price <= 69 else 1 if 40 <= i.price <= 80 else 0)
                if bags(i) and i.attr("capacity_rackets") != "1"
                else 0
            ),
        ),
        Query(
            "demo",
            "price",
            "espresso beans under 20 euros",
            "beans for espresso up to 20 EUR 3; other medium-roast beans up to 20 EUR 2; the espresso blend (36 EUR) 1; light-roast filter beans 1",
            lambda i: (
                (
                    3
                    if "espresso" in i.text and i.price <= 20
                    else 1
                    if "espresso" in i.text
                    else 2
                    if i.attr("roast") == "medium"
                    else 1
                )
                if beans(i)
                else 0
            ),
            {
                "brewhaus-beans-ethiopia-guji": (
                    1,
                    "its own text calls it a difficult espresso: light roast for pour-over",
                )
            },
        ),
        # --- typos
        Query("demo", "typo", "begginer raket", "as 'good racket for beginners'", beginner_racket),
        Query(
            "demo",
            "typo",
            "coffe grinder",
            "grinders 3",
            lambda i: 3 if grinder(i) else 0,
        ),
        Query(
            "demo",
            "typo",
            "overgirp pack",
            "overgrips 3; base grips 1",
            lambda i: 3 if overgrip(i) else 1 if grips(i) else 0,
        ),
        Query(
            "demo",
            "typo",
            "padle shoes for women",
            "shoes whose audience names women 3; other adult shoes 1",
            lambda i: (3 if "women" in i.audience else 0 if "junior" in i.name else 1) if shoes(i) else 0,
        ),
        Query(
            "demo",
            "typo",
            "expresso tamper",
            "the tamper 3; other espresso prep tools (WDT) 1",
            lambda i: (
                3
                if coffee(i) and i.attr("type") == "tamper"
                else 1
                if coffee(i) and i.attr("type") == "distribution tool"
                else 0
            ),
        ),
        Query(
            "demo",
            "typo",
            "gooseneck ketle",
            "the kettle 3",
            lambda i: 3 if coffee(i) and i.attr("type") == "kettle" else 0,
        ),
        # --- synonyms (words the catalog does not use)
        Query(
            "demo", "synonym", "paddle bat for a newbie", "as 'good racket for beginners'", beginner_racket
        ),
        Query(
            "demo",
            "synonym",
            "trainers for sandy artificial grass",
            "adult clay-sole shoes 3; the junior clay shoe 2; hybrid and omni soles (for lightly sanded courts) 1",
            lambda i: (
                (
                    3
                    if i.attr("sole") == "clay" and "junior" not in i.name
                    else 2
                    if i.attr("sole") == "clay"
                    else 1
                )
                if shoes(i)
                else 0
            ),
        ),
        Query(
            "demo",
            "synonym",
            "rucksack that fits two rackets",
            "backpacks for two or more rackets 3; bags with backpack straps 2; other bags for two or more rackets 1",
            lambda i: (
                (
                    3
                    if "backpack" in i.name and int(i.attr("capacity_rackets") or 0) >= 2
                    else 2
                    if "backpack" in i.text
                    else 1
                    if int(i.attr("capacity_rackets") or 0) >= 2
                    else 0
                )
                if bags(i)
                else 0
            ),
        ),
        Query(
            "demo",
            "synonym",
            "filter papers for my dripper",
            "paper filters 3; the pour-over kit that includes filters 2; drippers 1",
            lambda i: (
                3
                if coffee(i) and i.attr("type") == "filters"
                else 2
                if coffee(i) and "kit" in i.name
                else 1
                if coffee(i) and i.attr("type") == "dripper"
                else 0
            ),
        ),
        Query(
            "demo",
            "synonym",
            "pressureless balls for drills",
            "pressureless balls 3; other balls 1",
            lambda i: (3 if i.attr("pressure") == "pressureless" else 1) if balls(i) else 0,
        ),
        Query(
            "demo",
            "synonym",
            "beans for a flat white",
            "beans made for milk espresso drinks 3; beans that also suit espresso 2; other beans 1",
            lambda i: (
                (3 if "milk" in i.text and "espresso" in i.name else 2 if "espresso" in i.text else 1)
                if beans(i)
                else 0
            ),
            {
                "brewhaus-beans-ethiopia-guji": (
                    1,
                    "its own text calls it a difficult espresso, not for milk drinks",
                )
            },
        ),
        # --- attributes
        Query(
            "demo",
            "attribute",
            "round racket with a soft core",
            "round rackets with a soft core 3; other round rackets 1; other soft-core rackets 1",
            lambda i: (
                (
                    3
                    if i.attr("shape") == "round" and "soft" in i.attr("core")
                    else 1
                    if i.attr("shape") == "round" or "soft" in i.attr("core")
                    else 0
                )
                if racket(i)
                else 0
            ),
        ),
        Query(
            "demo",
            "attribute",
            "diamond shape power racket",
            "diamond power rackets 3; other power or diamond rackets 1",
            lambda i: (
                (
                    3
                    if i.attr("shape") == "diamond" and i.attr("play_style") == "power"
                    else 1
                    if i.attr("shape") == "diamond" or i.attr("play_style") == "power"
                    else 0
                )
                if racket(i)
                else 0
            ),
        ),
        Query(
            "demo",
            "attribute",
            "light roast coffee beans",
            "light-roast beans 3; other beans 1",
            lambda i: (3 if i.attr("roast") == "light" else 1) if beans(i) else 0,
        ),
        Query(
            "demo",
            "attribute",
            "teardrop racket for intermediate players",
            "intermediate teardrop rackets 3; teardrop rackets of another level 1; other intermediate rackets 1",
            lambda i: (
                (
                    3
                    if i.attr("shape") == "teardrop" and level(i) == "intermediate"
                    else 1
                    if i.attr("shape") == "teardrop" or level(i) == "intermediate"
                    else 0
                )
                if racket(i)
                else 0
            ),
        ),
        Query(
            "demo",
            "attribute",
            "electric grinder with flat burrs",
            "electric flat-burr grinders 3; other electric grinders 2; hand grinders 1",
            lambda i: (
                (
                    3
                    if i.attr("power") == "electric" and "flat" in i.attr("burr_type")
                    else 2
                    if i.attr("power") == "electric"
                    else 1
                )
                if grinder(i)
                else 0
            ),
        ),
        Query(
            "demo",
            "attribute",
            "12 pack of balls",
            "12-ball packs 3; other balls 1",
            lambda i: (3 if i.attr("pack_size") == "12" else 1) if balls(i) else 0,
        ),
        # --- vague
        Query(
            "demo",
            "vague",
            "I want to get better at padel",
            "lessons for improving players and video analysis 2; beginner-only clinics 1",
            lambda i: (1 if level(i) == "beginner" else 2) if lessons(i) else 0,
        ),
        Query(
            "demo",
            "vague",
            "nice gift for a coffee lover",
            "coffee gear its data calls a gift 3; other durable coffee gear 2; consumables (beans, filters) 1",
            lambda i: (
                (3 if "gift" in i.text else 1 if i.attr("type") in ("beans", "filters") else 2)
                if coffee(i)
                else 0
            ),
        ),
        # --- no good answer in this catalog
        Query(
            "demo",
            "no-answer",
            "tennis racket strings",
            "no product: padel rackets have no strings",
            lambda i: 0,
        ),
        Query(
            "demo",
            "no-answer",
            "electric espresso machine",
            "no product: the shop sells espresso tools, no machine",
            lambda i: 0,
        ),
        Query("demo", "no-answer", "golf balls", "no product", lambda i: 0),
        Query(
            "demo",
            "no-answer",
            "running shoes for a marathon",
            "no product: padel shoes are not running shoes",
            lambda i: 0,
        ),
        # --- long instructions in the style of WebShop's crowd-written goals
        Query(
            "demo",
            "price",
            "i am looking for a light padel racket for my wife who is just starting, price lower than 80 euros",
            "beginner rackets up to 80 EUR 3; beginner rackets up to 120 EUR 1; other rackets up to 80 EUR 1",
            lambda i: (
                (budget(i.price, 80, 3) if level(i) == "beginner" else 1 if i.price <= 80 else 0)
                if racket(i)
                else 0
            ),
        ),
        Query(
            "demo",
            "attribute",
            "i want a racket bag with a thermal compartment that holds at least three rackets",
            "thermal bags for three or more rackets 3; thermal bags for fewer 1; other bags for three or more 1",
            lambda i: (
                (
                    3
                    if i.attr("thermal_compartment") == "true" and int(i.attr("capacity_rackets") or 0) >= 3
                    else 1
                    if i.attr("thermal_compartment") == "true" or int(i.attr("capacity_rackets") or 0) >= 3
                    else 0
                )
                if bags(i)
                else 0
            ),
        ),
    ]


def gender(item: Item) -> str:
    return item.attr("gender")


def luma_in(*categories: str) -> Callable[[Item], bool]:
    return lambda item: item.category in categories


tops_and_bottoms = luma_in(
    "men-jackets",
    "women-jackets",
    "men-hoodies-sweatshirts",
    "women-hoodies-sweatshirts",
    "men-pants",
    "women-pants",
)
jackets = luma_in("men-jackets", "women-jackets")
hoodies = luma_in("men-hoodies-sweatshirts", "women-hoodies-sweatshirts")
shorts = luma_in("men-shorts", "women-shorts")
tees = luma_in("men-tees", "women-tees")
luma_bags = luma_in("gear-bags")
equipment = luma_in("gear-fitness-equipment")
watches = luma_in("gear-watches")
videos = luma_in("training-videos")


def tank(item: Item) -> bool:
    return item.category == "men-tanks" or (
        item.category == "women-bras-tanks" and "tank" in item.attr("style")
    )


def bra(item: Item) -> bool:
    return item.category == "women-bras-tanks" and "bra" in item.attr("style")


def hooded(item: Item) -> bool:
    return hoodies(item) and (
        "hood" in item.name or "hoodie" in item.attr("style") or bool(re.search(r"\bhood\b", item.text))
    )


def yoga_item(item: Item) -> bool:
    return "yoga" in item.attr("activity") or "yoga" in item.name


def luma_queries() -> list[Query]:
    return [
        # --- needs in plain words
        Query(
            "luma",
            "need",
            "something warm for winter runs",
            "cold or wintry-weather jackets, hoodies and pants made for running 3; other cold or wintry-weather ones 2; cool-weather ones 1",
            lambda i: (
                (
                    3
                    if re.search("cold|wintry", i.attr("climate")) and i.has("running", "jog", "run ")
                    else 2
                    if re.search("cold|wintry", i.attr("climate"))
                    else 1
                    if "cool" in i.attr("climate")
                    else 0
                )
                if tops_and_bottoms(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "need",
            "yoga for beginners",
            "the beginner's yoga video 3; the yoga brick its text calls good for beginners 2; other yoga videos and yoga equipment 1",
            lambda i: (
                3
                if videos(i) and "beginner" in i.name
                else 2
                if equipment(i) and yoga_item(i) and i.has("beginner")
                else 1
                if (videos(i) or equipment(i)) and yoga_item(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "need",
            "bag for the gym and weekend trips",
            "duffles for gym and travel 3; other bags for gym and travel or overnight 2; other gym bags 1",
            lambda i: (
                (
                    3
                    if "duffel" in i.attr("style") and "gym" in i.attr("activity")
                    else 2
                    if "gym" in i.attr("activity") and re.search("travel|overnight", i.attr("activity"))
                    else 1
                    if "gym" in i.attr("activity") or "duffel" in i.attr("style")
                    else 0
                )
                if luma_bags(i)
                else 0
            ),
            {
                "luma-24-wb07": (
                    2,
                    "a duffle made for overnight trips; its activities just do not list the gym",
                )
            },
        ),
        Query(
            "luma",
            "need",
            "watch that tracks my heart rate",
            "watches with heart rate 3; other digital exercise watches 1",
            lambda i: (
                (3 if i.has("heart rate") else 1 if "exercise" in i.attr("gear_type") else 0)
                if watches(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "need",
            "shirt that keeps me dry when I sweat",
            "moisture-wicking tees and tanks 3; other tees and tanks 1",
            lambda i: (3 if i.has("wick") else 1) if tees(i) or tank(i) else 0,
        ),
        Query(
            "luma",
            "need",
            "something to stretch with after yoga",
            "yoga straps 3; foam roller and yoga brick 2; stability balls 1",
            lambda i: (
                (
                    3
                    if "strap" in i.name
                    else 2
                    if re.search("roller|brick", i.name)
                    else 1
                    if "ball" in i.name and yoga_item(i)
                    else 0
                )
                if equipment(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "need",
            "bag to carry my laptop to work",
            "bags with a laptop sleeve or of the laptop style 3; other bags for urban or school use 1",
            lambda i: (
                (
                    3
                    if "laptop" in i.attr("features") or "laptop" in i.attr("style")
                    else 1
                    if re.search("urban|school", i.attr("activity"))
                    else 0
                )
                if luma_bags(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "need",
            "rain jacket for hiking",
            "jackets of the rain-coat style or for rainy weather 3; other hard shells and windbreakers 1",
            lambda i: (
                (
                    3
                    if "rain coat" in i.attr("style") or "rainy" in i.attr("climate")
                    else 1
                    if re.search("hard shell|windbreaker", i.attr("style"))
                    else 0
                )
                if jackets(i)
                else 0
            ),
        ),
        # --- price phrases
        Query(
            "luma",
            "price",
            "women's leggings under $50",
            "women's leggings up to $50 3; capri leggings up to $50 2; leggings up to $75 1; other capris up to $50 1",
            lambda i: (
                (
                    budget(
                        i.price,
                        50,
                        3
                        if "legging" in i.name
                        or ("leggings" in i.attr("style") and "capri" not in i.attr("style"))
                        else 2,
                    )
                )
                if i.category == "women-pants" and ("legging" in i.name or "leggings" in i.attr("style"))
                else 1
                if i.category == "women-pants" and "capri" in i.attr("style") and i.price <= 50
                else 0
            ),
        ),
        Query(
            "luma",
            "price",
            "men's hoodie under 50 dollars",
            "men's hoodies up to $50 3; men's hoodies up to $75 1; women's hoodies up to $50 1",
            lambda i: (
                budget(i.price, 50, 3)
                if i.category == "men-hoodies-sweatshirts" and hooded(i)
                else (1 if hooded(i) and i.price <= 50 else 0)
            ),
        ),
        Query(
            "luma",
            "price",
            "watch between $50 and $60",
            "watches from $50 to $60 3; other watches 1",
            lambda i: (3 if 50 <= i.price <= 60 else 1) if watches(i) else 0,
        ),
        Query(
            "luma",
            "price",
            "backpack for less than 40 bucks",
            "backpacks up to $40 3; backpacks up to $60 1; other bags up to $40 1",
            lambda i: (
                (budget(i.price, 40, 3) if "backpack" in i.attr("style") else 1 if i.price <= 40 else 0)
                if luma_bags(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "price",
            "cheap running shorts for men",
            "men's shorts up to $32 (the cheaper half) 3; other men's shorts 2; women's running shorts up to $32 1",
            lambda i: (
                (3 if i.price <= 32 else 2)
                if i.category == "men-shorts"
                else 1
                if i.category == "women-shorts" and i.price <= 32 and i.has("running")
                else 0
            ),
        ),
        Query(
            "luma",
            "price",
            "gym tank top around $30",
            "tanks from $25.50 to $34.50 3; other tanks 1",
            lambda i: (3 if 25.5 <= i.price <= 34.5 else 1) if tank(i) else 0,
        ),
        Query(
            "luma",
            "price",
            "women's jacket over $70",
            "women's jackets above $70 3; other women's jackets 1",
            lambda i: (3 if i.price > 70 else 1) if i.category == "women-jackets" else 0,
        ),
        # --- typos
        Query(
            "luma",
            "typo",
            "hoddie for women",
            "women's hoodies 3; women's sweatshirts without a hood 2; men's hoodies 1",
            lambda i: (
                (3 if hooded(i) else 2)
                if i.category == "women-hoodies-sweatshirts"
                else 1
                if hooded(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "typo",
            "yoga stap",
            "yoga straps 3; other yoga equipment 1",
            lambda i: (3 if "strap" in i.name else 1 if yoga_item(i) else 0) if equipment(i) else 0,
        ),
        Query(
            "luma",
            "typo",
            "waterproff duffle bag",
            "waterproof duffles 3; other duffles 2; other waterproof bags 1",
            lambda i: (
                (
                    3
                    if "duffel" in i.attr("style") and "waterproof" in i.attr("features")
                    else 2
                    if "duffel" in i.attr("style")
                    else 1
                    if "waterproof" in i.attr("features")
                    else 0
                )
                if luma_bags(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "typo",
            "compresion shorts",
            "compression shorts 3; other shorts 1; compression tights 1",
            lambda i: (
                (3 if "compression" in i.attr("style") or "compression" in i.name else 1)
                if shorts(i)
                else 1
                if "compression" in i.attr("style")
                else 0
            ),
        ),
        Query(
            "luma",
            "typo",
            "leggins",
            "leggings 3; capris and tights of the leggings style 2",
            lambda i: 3 if "legging" in i.name else 2 if "leggings" in i.attr("style") else 0,
        ),
        Query(
            "luma",
            "typo",
            "joging pants for men",
            "men's jogging and track pants 3; other men's pants 2; women's track pants 1",
            lambda i: (
                (3 if "jog" in i.name or "track" in i.name else 2)
                if i.category == "men-pants"
                else 1
                if i.category == "women-pants" and "track pants" in i.attr("style")
                else 0
            ),
        ),
        # --- synonyms
        Query(
            "luma",
            "synonym",
            "sweatshirt with a hood",
            "hoodies 3; sweatshirts without a hood 1",
            lambda i: (3 if hooded(i) else 1) if hoodies(i) else 0,
            {"luma-mh11": (1, "a crewneck by its name, although its description mentions a hood lining")},
        ),
        Query(
            "luma",
            "synonym",
            "windcheater",
            "windbreaker jackets 3; other jackets for windy weather 1",
            lambda i: (
                (3 if "windbreaker" in i.attr("style") else 1 if "windy" in i.attr("climate") else 0)
                if jackets(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "synonym",
            "sports bra",
            "bras 3; women's tanks 1",
            lambda i: 3 if bra(i) else 1 if tank(i) and i.category == "women-bras-tanks" else 0,
        ),
        Query(
            "luma",
            "synonym",
            "exercise ball",
            "stability (stasis) balls 3; the cardio ball 2",
            lambda i: (3 if "stasis ball" in i.name else 2 if "ball" in i.name else 0) if equipment(i) else 0,
        ),
        Query(
            "luma",
            "synonym",
            "resistance bands",
            "Lumaflex bands 3",
            lambda i: 3 if equipment(i) and "band" in i.name else 0,
        ),
        Query(
            "luma",
            "synonym",
            "skipping rope",
            "the jump rope 3",
            lambda i: 3 if equipment(i) and "rope" in i.name else 0,
        ),
        Query(
            "luma",
            "synonym",
            "crewneck jumper",
            "crewneck sweatshirts 3; other sweatshirts and pullovers without a hood 2; hoodies 1",
            lambda i: (3 if "crewneck" in i.name else 1 if hooded(i) else 2) if hoodies(i) else 0,
        ),
        # --- attributes
        Query(
            "luma",
            "attribute",
            "organic cotton tee for women",
            "women's tees with organic cotton 3; other women's tees 1; men's organic-cotton tees 1",
            lambda i: (
                (3 if "organic cotton" in i.attr("material") else 1)
                if i.category == "women-tees"
                else 1
                if i.category == "men-tees" and "organic cotton" in i.attr("material")
                else 0
            ),
        ),
        Query(
            "luma",
            "attribute",
            "men's full zip fleece jacket",
            "men's jackets, full zip and fleece 3; men's jackets with one of the two 2; women's full-zip fleece jackets 1",
            lambda i: (
                (
                    3
                    if "full zip" in i.attr("style") and "fleece" in i.attr("material")
                    else 2
                    if "full zip" in i.attr("style") or "fleece" in i.attr("material")
                    else 0
                )
                if i.category == "men-jackets"
                else 1
                if i.category == "women-jackets"
                and "full zip" in i.attr("style")
                and "fleece" in i.attr("material")
                else 0
            ),
            {"luma-mh12": (1, "a full-zip fleece, but a sweatshirt rather than a jacket")},
        ),
        Query(
            "luma",
            "attribute",
            "striped shorts",
            "striped shorts 3; other shorts 1",
            lambda i: (3 if "striped" in i.attr("pattern") else 1) if shorts(i) else 0,
        ),
        Query(
            "luma",
            "attribute",
            "eco friendly tank top for women",
            "women's tanks of the eco collection 3; other women's tanks 1; men's eco tanks 1; women's eco bra tops 1",
            lambda i: (
                (
                    3
                    if i.category == "women-bras-tanks" and i.has("eco friendly")
                    else 1
                    if i.category == "women-bras-tanks" or i.has("eco friendly")
                    else 0
                )
                if tank(i)
                else 1
                if bra(i) and i.has("eco friendly")
                else 0
            ),
        ),
        Query(
            "luma",
            "attribute",
            "insulated jacket for cold weather",
            "insulated jackets for cold or wintry weather 3; other insulated or cold-weather jackets 2; other jackets 1",
            lambda i: (
                (
                    3
                    if "insulated" in i.attr("style") and re.search("cold|wintry", i.attr("climate"))
                    else 2
                    if "insulated" in i.attr("style") or re.search("cold|wintry", i.attr("climate"))
                    else 1
                )
                if jackets(i)
                else 0
            ),
        ),
        Query(
            "luma",
            "attribute",
            "75 cm stability ball",
            "the 75 cm stasis ball 3; other stasis balls 1",
            lambda i: (3 if "75 cm" in i.name else 1) if equipment(i) and "stasis" in i.name else 0,
        ),
        Query(
            "luma",
            "attribute",
            "digital watch with a stopwatch",
            "digital watches with a stopwatch 3; other digital watches 2; other watches 1",
            lambda i: (
                (3 if i.has("digital") and i.has("stopwatch") else 2 if i.has("digital") else 1)
                if watches(i)
                else 0
            ),
        ),
        # --- vague
        Query(
            "luma",
            "vague",
            "yoga stuff",
            "yoga equipment, yoga bags and yoga videos 2; clothes named for yoga 2",
            lambda i: (
                2 if yoga_item(i) and (equipment(i) or videos(i) or luma_bags(i) or "yoga" in i.name) else 0
            ),
        ),
        Query(
            "luma",
            "vague",
            "gift for someone who loves running",
            "running clothes (running in the name) and exercise watches 2; clothes whose text mentions running 1",
            lambda i: (
                2
                if "running" in i.name or (watches(i) and "athletic" in i.attr("activity"))
                else 1
                if i.has("running") and not videos(i)
                else 0
            ),
        ),
        # --- no good answer in this catalog
        Query("luma", "no-answer", "running shoes", "no product: the store sells no shoes", lambda i: 0),
        Query("luma", "no-answer", "kids swimsuit", "no product", lambda i: 0),
        Query(
            "luma", "no-answer", "adjustable dumbbells", "no product: no weights in the store", lambda i: 0
        ),
        Query("luma", "no-answer", "ski gloves", "no product", lambda i: 0),
        # --- long instructions in the style of WebShop's crowd-written goals
        Query(
            "luma",
            "price",
            "i am looking for a women's full zip hoodie made of cotton, price lower than 60.00 dollars",
            "women's full-zip hoodies with cotton up to $60 3; other women's full-zip hoodies up to $60 2; "
            "women's full-zip cotton hoodies up to $90 1; other women's hoodies up to $60 1",
            lambda i: (
                (
                    budget(i.price, 60, 3 if "cotton" in i.attr("material") else 2)
                    if "full zip" in i.attr("style") and hooded(i)
                    else 1
                    if i.price <= 60
                    else 0
                )
                if i.category == "women-hoodies-sweatshirts"
                else 0
            ),
        ),
        Query(
            "luma",
            "attribute",
            "i want a men's v-neck running tee made of organic cotton",
            "men's v-neck running tees with organic cotton 3; men's running tees with organic cotton 2; "
            "other men's v-neck tees and men's organic-cotton tees 1",
            lambda i: (
                (
                    3
                    if "v-neck" in i.name and "running" in i.name and "organic cotton" in i.attr("material")
                    else 2
                    if "running" in i.name and "organic cotton" in i.attr("material")
                    else 1
                    if "v-neck" in i.name or "organic cotton" in i.attr("material")
                    else 0
                )
                if i.category == "men-tees"
                else 0
            ),
        ),
    ]


def split_of(position: int) -> str:
    """Alternate within each (catalog, kind) group: the first is dev, the second test, and so on."""
    return "dev" if position % 2 == 0 else "test"


def build() -> dict[str, Any]:
    items = {
        name: [Item.of(product) for product in json.loads(path.read_text())]
        for name, path in CATALOGS.items()
    }
    queries: list[dict[str, Any]] = []
    positions: Counter[tuple[str, str]] = Counter()
    for number, spec in enumerate([*demo_queries(), *luma_queries()], start=1):
        if spec.kind not in KINDS:
            raise ValueError(f"unknown kind {spec.kind}")
        known = {item.id for item in items[spec.catalog]}
        unknown = set(spec.overrides) - known
        if unknown:
            raise ValueError(f"{spec.query!r}: overrides of unknown products {sorted(unknown)}")
        grades = {item.id: spec.rule(item) for item in items[spec.catalog]}
        for product_id, (grade, _reason) in spec.overrides.items():
            grades[product_id] = grade
        group = (spec.catalog, spec.kind)
        queries.append(
            {
                "id": f"{spec.catalog}-{number:02d}",
                "catalog": spec.catalog,
                "kind": spec.kind,
                "split": split_of(positions[group]),
                "query": spec.query,
                "rule": spec.rule_text,
                "overrides": {product_id: reason for product_id, (_grade, reason) in spec.overrides.items()},
                "judgments": {
                    product_id: grade
                    for product_id, grade in sorted(grades.items(), key=lambda pair: (-pair[1], pair[0]))
                    if grade > 0
                },
            }
        )
        positions[group] += 1
    return {
        "description": "Graded relevance judgments for bench/search.py; made by bench/make_judgments.py",
        "grades": {
            "3": "exactly what the shopper asked for",
            "2": "a good answer: a close substitute, or fits all but a soft wish",
            "1": "related, but misses something the shopper stated",
            "0": "irrelevant (products not listed)",
        },
        "catalogs": {name: str(path.relative_to(ROOT)) for name, path in CATALOGS.items()},
        "queries": queries,
    }


def main() -> None:
    judgments = build()
    TARGET.write_text(json.dumps(judgments, indent=1, ensure_ascii=False) + "\n")
    counts = Counter((query["catalog"], query["kind"]) for query in judgments["queries"])
    print(f"Wrote {len(judgments['queries'])} queries to {TARGET}: {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()
