"""talkshop.advisor.preferences: shopper preferences read from messages and merged across a chat."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from talkshop.advisor.preferences import Budget, Contradiction, Preferences, extract, refine


def _catalog_brands() -> list[str]:
    data = json.loads((files("talkshop") / "demo" / "catalog.json").read_text(encoding="utf-8"))
    return sorted({product["brand"] for product in data})


BRANDS = _catalog_brands()


def eur(max_amount: int | None = None, min_amount: int | None = None) -> Budget:
    return Budget(min_amount=min_amount, max_amount=max_amount, currency="EUR")


def test_the_catalog_has_the_brands_the_tests_use() -> None:
    assert {"Vantaro", "Nordpala", "Kestrel", "Smash Academy"} <= set(BRANDS)


# --------------------------------------------------------------------------------------------------------
# extract: the seed phrases, exactly
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("I'm a beginner, budget €50", Preferences(budget=eur(5000), skill_level="beginner")),
        ("advanced player looking for speed", Preferences(skill_level="advanced", goals=["speed"])),
        (
            "defensive style, prefer lightweight",
            Preferences(play_style="defensive", weight="light"),
        ),
        ("left-handed, need good control", Preferences(handedness="left", goals=["control"])),
        ("I have tennis elbow", Preferences(physical_notes=["tennis elbow"])),
        (
            "not Vantaro, I like Nordpala",
            Preferences(brands_liked=["Nordpala"], brands_disliked=["Vantaro"]),
        ),
    ],
)
def test_seed_phrases_give_exactly_these_preferences(message: str, expected: Preferences) -> None:
    assert extract(message, BRANDS) == expected


@pytest.mark.parametrize("message", ["", "   ", "hello there", "thanks!", "what do you think?", "ok 👍"])
def test_a_message_with_nothing_to_extract_gives_empty_preferences(message: str) -> None:
    assert extract(message, BRANDS) == Preferences()


def test_preferences_forbid_unknown_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        Preferences.model_validate({"favourite_food": "pizza"})


# --------------------------------------------------------------------------------------------------------
# extract: each field family
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "budget"),
    [
        ("under €80", eur(8000)),
        ("at least €150", eur(None, 15000)),
        ("between 100 and 200 euros", eur(20000, 10000)),
        ("budget 50 dollars", Budget(min_amount=None, max_amount=5000, currency="USD")),
        ("mi presupuesto es 120€", eur(12000)),
        ("mon budget: moins de 90 €", eur(9000)),
        ("orçamento até 100 euros", eur(10000)),
    ],
)
def test_budget_comes_from_the_price_phrases_of_understand(message: str, budget: Budget) -> None:
    assert extract(message).budget == budget


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("I'm a beginner", "beginner"),
        ("club player, intermediate level", "intermediate"),
        ("advanced", "advanced"),
        ("I play at pro level", "pro"),
        ("professional player", "pro"),
        ("soy principiante", "beginner"),
        ("je suis débutant", "beginner"),
        ("sou iniciante", "beginner"),
        ("nivel avanzado", "advanced"),
    ],
)
def test_skill_level(message: str, level: str) -> None:
    assert extract(message).skill_level == level


@pytest.mark.parametrize(
    ("message", "style", "goals"),
    [
        ("I play defensive", "defensive", []),
        ("aggressive player", "aggressive", []),
        ("all-round player", "all-round", []),
        ("I'm a control player", "control", ["control"]),
        ("power game, I love to smash", "power", ["power"]),
        ("juego defensivo", "defensive", []),
        ("je suis agressif", "aggressive", []),
    ],
)
def test_play_style(message: str, style: str, goals: list[str]) -> None:
    preferences = extract(message)
    assert (preferences.play_style, preferences.goals) == (style, goals)


@pytest.mark.parametrize(
    ("message", "style", "goals"),
    [
        ("defensive player who wants more spin", "defensive", ["spin"]),
        ("I play aggressive, always attacking at the net", "aggressive", []),
        ("aggressive player, I need power", "aggressive", ["power"]),
    ],
)
def test_a_play_style_word_adds_no_goal_but_goal_words_still_do(
    message: str, style: str, goals: list[str]
) -> None:
    preferences = extract(message)
    assert (preferences.play_style, preferences.goals) == (style, goals)


@pytest.mark.parametrize(
    ("message", "categories"),
    [
        ("sorry. I need grips for my racket", ["grips-overgrips"]),
        ("I need a bag for my rackets", ["padel-bags"]),
        ("overgrips for the racket", ["grips-overgrips"]),
        ("una bolsa para mis palas", ["padel-bags"]),
        ("un sac pour ma raquette", ["padel-bags"]),
        ("a bag for 2 rackets", ["padel-bags"]),
        ("a racket and balls", ["padel-rackets", "padel-balls"]),
        ("a racket for my son", ["padel-rackets"]),
    ],
)
def test_a_category_named_as_what_the_need_is_for_yields_to_the_one_wanted(
    message: str, categories: list[str]
) -> None:
    assert extract(message).categories == categories


@pytest.mark.parametrize(
    ("message", "names", "expected"),
    [
        ("tell me about the Vantaro Strike Pro 18K", ["Vantaro Strike Pro 18K"], Preferences()),
        (
            "which is better, the Vantaro Grip Clay or the Brisa Cushion Clay?",
            ["Vantaro Grip Clay", "Brisa Cushion Clay"],
            Preferences(),
        ),
        (
            "Nordpala Polar Control vs Brisa Mistral",
            ["Nordpala Polar Control", "Brisa Mistral"],
            Preferences(),
        ),
        (
            "is the Strike Pro 18K good for beginners?",
            ["Vantaro Strike Pro 18K"],
            Preferences(skill_level="beginner"),
        ),
        (
            "I like Vantaro, how is the Kestrel Dive 500?",
            ["Kestrel Dive 500"],
            Preferences(brands_liked=["Vantaro"]),
        ),
    ],
)
def test_named_products_state_no_preferences(message: str, names: list[str], expected: Preferences) -> None:
    assert extract(message, BRANDS, product_names=names) == expected
    assert refine(Preferences(), message, BRANDS, product_names=names).preferences == expected


def test_without_the_names_a_product_name_reads_as_words() -> None:
    assert extract("tell me about the Vantaro Strike Pro 18K", BRANDS).brands_liked == ["Vantaro"]


def test_control_alone_is_a_goal_not_a_play_style() -> None:
    assert extract("I need control") == Preferences(goals=["control"])


@pytest.mark.parametrize(
    ("message", "goals"),
    [
        ("more spin and speed", ["spin", "speed"]),
        ("something comfortable and durable", ["comfort", "durability"]),
        ("quiero potencia", ["power"]),
        ("je veux de la puissance", ["power"]),
        ("quero potência e controle", ["power", "control"]),
    ],
)
def test_goals_in_message_order(message: str, goals: list[str]) -> None:
    assert extract(message).goals == goals


@pytest.mark.parametrize(
    ("message", "weight"),
    [
        ("prefer lightweight", "light"),
        ("a heavy racket", "heavy"),
        ("medium weight please", "medium"),
        ("una pala ligera", "light"),
        ("une raquette légère", "light"),
        ("uma raquete leve", "light"),
    ],
)
def test_weight_class(message: str, weight: str) -> None:
    assert extract(message).weight == weight


@pytest.mark.parametrize(
    ("message", "low", "high"),
    [
        ("under 360 g", None, 360),
        ("at least 370 grams", 370, None),
        ("around 350 grams", 340, 360),
        ("a 355g racket", 345, 365),
        ("between 350 and 365 g", 350, 365),
        ("350-365 g", 350, 365),
        ("360 g or less", None, 360),
        ("menos de 360 gramos", None, 360),
        ("under 340 g and over 370 g", None, None),
    ],
)
def test_weight_bounds_in_grams(message: str, low: int | None, high: int | None) -> None:
    preferences = extract(message)
    assert (preferences.min_weight_g, preferences.max_weight_g) == (low, high)
    assert preferences.budget is None


def test_a_gram_comparison_is_a_bound_not_a_weight_class() -> None:
    assert extract("lighter than 360 g") == Preferences(max_weight_g=360)


@pytest.mark.parametrize(
    ("message", "materials"),
    [
        ("carbon face", ["carbon"]),
        ("soft core", ["soft core"]),
        ("12K carbon with a soft EVA core", ["carbon", "soft EVA"]),
        ("fiberglass and foam", ["fiberglass", "foam"]),
        ("fibra de carbono", ["carbon"]),
        ("fibre de verre", ["fiberglass"]),
    ],
)
def test_materials(message: str, materials: list[str]) -> None:
    preferences = extract(message)
    assert preferences.materials == materials
    assert preferences.goals == []  # "soft" inside a material is no comfort goal


@pytest.mark.parametrize(
    ("message", "colours"),
    [
        ("red or black", ["red", "black"]),
        ("gray and white", ["grey", "white"]),
        ("something green, yellow, pink or orange", ["green", "yellow", "pink", "orange"]),
        ("light blue please", ["blue"]),
        ("una pala roja", ["red"]),
        ("une raquette noire", ["black"]),
        ("preto e branco", ["black", "white"]),
    ],
)
def test_colours(message: str, colours: list[str]) -> None:
    preferences = extract(message)
    assert preferences.colours == colours
    assert preferences.weight is None  # "light blue" is a colour, not a weight


@pytest.mark.parametrize(
    ("message", "hand"),
    [
        ("left-handed", "left"),
        ("I'm a lefty", "left"),
        ("right-handed player", "right"),
        ("soy zurdo", "left"),
        ("je suis gaucher", "left"),
        ("sou canhoto", "left"),
        ("soy diestro", "right"),
    ],
)
def test_handedness(message: str, hand: str) -> None:
    assert extract(message).handedness == hand


@pytest.mark.parametrize(
    ("message", "notes"),
    [
        ("I have tennis elbow", ["tennis elbow"]),
        ("my wrist hurts", ["wrist pain"]),
        ("bad back and a sore shoulder", ["back pain", "shoulder pain"]),
        ("dolor de espalda", ["back pain"]),
        ("j'ai mal au coude", ["tennis elbow"]),
        ("something without elbow pain", ["tennis elbow"]),
    ],
)
def test_physical_notes(message: str, notes: list[str]) -> None:
    assert extract(message).physical_notes == notes


def test_back_alone_is_no_back_pain() -> None:
    assert extract("I came back to padel").physical_notes == []


@pytest.mark.parametrize(
    ("message", "shape"),
    [
        ("round shape", "round"),
        ("teardrop", "teardrop"),
        ("a diamond racket", "diamond"),
        ("forma de lágrima", "teardrop"),
        ("all-round player", None),
    ],
)
def test_shape(message: str, shape: str | None) -> None:
    assert extract(message).shape == shape


@pytest.mark.parametrize(
    ("message", "categories"),
    [
        ("a new racket", ["padel-rackets"]),
        ("shoes and a bag", ["padel-shoes", "padel-bags"]),
        ("a racket bag", ["padel-bags"]),
        ("a bag for 2 rackets", ["padel-bags"]),
        ("shoes with good grip", ["padel-shoes"]),
        ("padel lessons", ["padel-lessons"]),
        ("a coffee grinder", ["coffee-gear"]),
        ("overgrips and balls", ["grips-overgrips", "padel-balls"]),
        ("busco una pala y zapatillas", ["padel-rackets", "padel-shoes"]),
    ],
)
def test_categories_from_product_words(message: str, categories: list[str]) -> None:
    assert extract(message).categories == categories


# --------------------------------------------------------------------------------------------------------
# extract: languages, brands, negations, speed
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "principiante, zurdo, presupuesto de 80 euros, busco control y una pala ligera",
        "débutant, gaucher, budget 80 €, je cherche du contrôle, raquette légère",
        "iniciante, canhoto, orçamento de 80 euros, quero controle, raquete leve",
    ],
)
def test_core_flow_in_spanish_french_and_portuguese(message: str) -> None:
    assert extract(message) == Preferences(
        budget=eur(8000),
        skill_level="beginner",
        goals=["control"],
        weight="light",
        handedness="left",
        categories=["padel-rackets"],
    )


def test_brands_match_case_and_accent_insensitively_and_keep_the_catalog_spelling() -> None:
    assert extract("I LIKE VANTARO and smash academy", BRANDS).brands_liked == ["Vantaro", "Smash Academy"]
    assert extract("nördpala", BRANDS).brands_liked == ["Nordpala"]


def test_brands_are_only_those_the_caller_knows() -> None:
    assert extract("I like Vantaro and Bullpadel", BRANDS).brands_liked == ["Vantaro"]
    assert extract("I like Vantaro").brands_liked == []
    assert extract("I like Bullpadel", ["Bullpadel"]).brands_liked == ["Bullpadel"]


def test_brands_are_whole_words() -> None:
    assert extract("Vantaros and Altogether", BRANDS).brands_liked == []


def test_a_brand_name_is_no_need() -> None:
    assert extract("Smash Academy lessons", BRANDS) == Preferences(
        brands_liked=["Smash Academy"], categories=["padel-lessons"]
    )


@pytest.mark.parametrize(
    ("message", "liked", "disliked"),
    [
        ("I don't like Vantaro", [], ["Vantaro"]),
        ("I don't like Vantaro or Kestrel, but Nordpala is great", ["Nordpala"], ["Vantaro", "Kestrel"]),
        ("anything but Kestrel", [], ["Kestrel"]),
        ("I hate Vantaro, I love Kestrel", ["Kestrel"], ["Vantaro"]),
        ("no me gusta Vantaro", [], ["Vantaro"]),
        ("je n'aime pas Vantaro", [], ["Vantaro"]),
        ("não quero Vantaro", [], ["Vantaro"]),
    ],
)
def test_brand_negations(message: str, liked: list[str], disliked: list[str]) -> None:
    preferences = extract(message, BRANDS)
    assert (preferences.brands_liked, preferences.brands_disliked) == (liked, disliked)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("not for beginners", Preferences()),
        ("no heavy rackets", Preferences(categories=["padel-rackets"])),
        ("not too heavy", Preferences()),
        ("no red but blue", Preferences(colours=["blue"])),
        ("no red, blue", Preferences(colours=["blue"])),
        ("no red or black", Preferences()),
        ("no carbon", Preferences()),
        ("not a diamond", Preferences()),
        ("I don't need a bag", Preferences()),
        ("pas trop lourde", Preferences()),
        ("no me gusta Vantaro ni Kestrel", Preferences(brands_disliked=["Vantaro", "Kestrel"])),
    ],
)
def test_negated_values_are_skipped(message: str, expected: Preferences) -> None:
    assert extract(message, BRANDS) == expected


def test_extract_is_deterministic_and_never_raises_on_odd_text() -> None:
    odd = "\x00\u202e" + "€" * 50 + "racket " * 1000
    assert extract(odd) == extract(odd)
    assert extract("I'm a beginner, budget €50", BRANDS) == extract("I'm a beginner, budget €50", BRANDS)


# --------------------------------------------------------------------------------------------------------
# refine: merging
# --------------------------------------------------------------------------------------------------------


def test_refine_merges_new_values_and_accumulates_lists() -> None:
    current = Preferences(
        budget=eur(5000), skill_level="beginner", goals=["control"], colours=["red"], shape="round"
    )
    result = refine(current, "I'd like more spin, red or blue, a diamond shape", BRANDS)
    assert result.preferences == Preferences(
        budget=eur(5000),
        skill_level="beginner",
        goals=["control", "spin"],
        colours=["red", "blue"],
        shape="diamond",
    )
    assert result.changed == ["goals", "colours", "shape"]
    assert result.contradictions == []
    assert current.goals == ["control"]  # the input is not modified


def test_refine_with_nothing_new_changes_nothing() -> None:
    current = Preferences(skill_level="intermediate", goals=["power"])
    result = refine(current, "thanks, sounds good")
    assert (result.preferences, result.changed, result.contradictions) == (current, [], [])


def test_refine_of_empty_preferences_equals_extract() -> None:
    message = "I'm a beginner, budget €50, not Vantaro, I like Nordpala, red"
    result = refine(Preferences(), message, BRANDS)
    assert result.preferences == extract(message, BRANDS)
    assert result.changed == ["budget", "skill_level", "brands_liked", "brands_disliked", "colours"]


def test_an_adjacent_skill_level_is_an_update() -> None:
    result = refine(Preferences(skill_level="beginner"), "I'm more of an intermediate player")
    assert (result.preferences.skill_level, result.changed, result.contradictions) == (
        "intermediate",
        ["skill_level"],
        [],
    )


def test_a_liked_brand_now_disliked_moves_without_a_question() -> None:
    current = Preferences(brands_liked=["Vantaro", "Nordpala"])
    result = refine(current, "I don't like Vantaro", BRANDS)
    assert result.preferences.brands_liked == ["Nordpala"]
    assert result.preferences.brands_disliked == ["Vantaro"]
    assert result.changed == ["brands_liked", "brands_disliked"]
    assert result.contradictions == []


def test_a_disliked_brand_now_liked_moves_back() -> None:
    result = refine(Preferences(brands_disliked=["Kestrel"]), "Kestrel looks nice", BRANDS)
    assert (result.preferences.brands_liked, result.preferences.brands_disliked) == (["Kestrel"], [])


def test_refine_budget_bounds_merge_and_keep_the_currency() -> None:
    current = Preferences(budget=Budget(min_amount=None, max_amount=10000, currency="USD"))
    raised = refine(current, "at least 60")
    assert raised.preferences.budget == Budget(min_amount=6000, max_amount=10000, currency="USD")
    assert raised.changed == ["budget"]
    lowered = refine(raised.preferences, "actually under 80")
    assert lowered.preferences.budget == Budget(min_amount=6000, max_amount=8000, currency="USD")


def test_a_budget_in_another_currency_replaces_the_old_one() -> None:
    result = refine(Preferences(budget=eur(5000)), "my budget is 100 dollars")
    assert result.preferences.budget == Budget(min_amount=None, max_amount=10000, currency="USD")
    assert result.contradictions == []


def test_refine_weight_bounds_merge() -> None:
    result = refine(Preferences(max_weight_g=370), "at least 350 g")
    assert (result.preferences.min_weight_g, result.preferences.max_weight_g) == (350, 370)
    assert result.changed == ["min_weight_g"]


# --------------------------------------------------------------------------------------------------------
# refine: contradictions and negations
# --------------------------------------------------------------------------------------------------------


def _single(contradictions: list[Contradiction]) -> Contradiction:
    assert len(contradictions) == 1
    return contradictions[0]


def test_skill_contradiction_keeps_the_previous_level_and_asks() -> None:
    current = Preferences(skill_level="beginner")
    result = refine(current, "I'm a pro")
    assert result.preferences == current
    assert result.changed == []
    assert _single(result.contradictions) == Contradiction(
        field="skill_level",
        previous="beginner",
        new="pro",
        question="Earlier you described yourself as a beginner, now as a pro. Which level should I go by?",
    )


def test_budget_contradiction_keeps_the_previous_budget_and_asks() -> None:
    current = extract("budget €50")
    result = refine(current, "at least €150")
    assert result.preferences.budget == eur(5000)
    assert result.changed == []
    assert _single(result.contradictions) == Contradiction(
        field="budget",
        previous="at most €50",
        new="at least €150",
        question="Earlier your budget was at most €50, now at least €150. Which budget should I work with?",
    )


def test_weight_contradiction_keeps_the_previous_weight_and_asks() -> None:
    result = refine(extract("prefer lightweight"), "I want a heavy one")
    assert result.preferences.weight == "light"
    assert _single(result.contradictions) == Contradiction(
        field="weight",
        previous="light",
        new="heavy",
        question="Earlier you asked for something light, now something heavy. Which do you prefer?",
    )


def test_gram_range_contradiction() -> None:
    result = refine(Preferences(max_weight_g=360), "at least 370 g")
    assert result.preferences.max_weight_g == 360
    assert result.preferences.min_weight_g is None
    contradiction = _single(result.contradictions)
    assert (contradiction.field, contradiction.previous, contradiction.new) == (
        "min_weight_g",
        "at most 360 g",
        "at least 370 g",
    )
    assert contradiction.question.endswith("?")


def test_handedness_contradiction() -> None:
    result = refine(Preferences(handedness="left"), "right-handed")
    assert result.preferences.handedness == "left"
    contradiction = _single(result.contradictions)
    assert (contradiction.field, contradiction.previous, contradiction.new) == ("handedness", "left", "right")
    assert "Which hand" in contradiction.question


def test_play_style_contradiction_between_opposite_sides_only() -> None:
    clash = refine(Preferences(play_style="defensive"), "aggressive player")
    assert clash.preferences.play_style == "defensive"
    assert _single(clash.contradictions).field == "play_style"
    update = refine(Preferences(play_style="defensive"), "all-round player")
    assert (update.preferences.play_style, update.contradictions) == ("all-round", [])


def test_a_correction_word_lets_the_new_value_win() -> None:
    result = refine(Preferences(skill_level="beginner"), "sorry, actually I'm a pro")
    assert (result.preferences.skill_level, result.changed, result.contradictions) == (
        "pro",
        ["skill_level"],
        [],
    )
    budget = refine(extract("budget €50"), "I changed my mind: at least €150")
    assert (budget.preferences.budget, budget.contradictions) == (eur(None, 15000), [])
    grams = refine(Preferences(max_weight_g=360), "sorry, I meant at least 370 g")
    assert (grams.preferences.min_weight_g, grams.preferences.max_weight_g) == (370, None)


def test_negating_the_old_value_clears_it() -> None:
    result = refine(Preferences(weight="heavy", colours=["red", "blue"]), "no heavy rackets, not red")
    assert result.preferences.weight is None
    assert result.preferences.colours == ["blue"]
    assert result.preferences.categories == ["padel-rackets"]
    assert result.changed == ["weight", "colours", "categories"]


def test_negating_the_old_value_and_naming_a_new_one_is_a_change() -> None:
    result = refine(Preferences(weight="light"), "not light, heavy")
    assert (result.preferences.weight, result.contradictions) == ("heavy", [])


def test_contradiction_on_one_field_does_not_block_the_others() -> None:
    current = Preferences(skill_level="beginner", goals=["control"])
    result = refine(current, "pro player, I want spin, lefty")
    assert result.preferences.skill_level == "beginner"
    assert result.preferences.goals == ["control", "spin"]
    assert result.preferences.handedness == "left"
    assert result.changed == ["goals", "handedness"]
    assert [c.field for c in result.contradictions] == ["skill_level"]
