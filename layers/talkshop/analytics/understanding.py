"""How well the AI can understand a product: a 0-100 score from its ai_* metadata, with what to fix.

The advisor recommends, compares and answers objections from these fields (docs/advisor.md), so a
product with thin metadata is recommended less and explained worse. Each check is worth some points;
a field earns them in proportion to how complete it is (three use cases of the three wanted: all;
one: a third), and loses some for poor quality (duplicates, entries too short to say anything,
links to products that do not exist). Every shortfall comes with a concrete suggestion a creator can
act on ("Add 2 more use cases").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from talkshop.catalog.model import Product

#: Below this many words a use case or a best-for point tells the model little ("good", "padel").
MIN_PHRASE_WORDS = 2
MIN_DESCRIPTION_CHARS = 120
GOOD_SCORE = 80
FAIR_SCORE = 50


class Suggestion(BaseModel):
    field: str
    text: str


class Understanding(BaseModel):
    product_id: str
    score: int  # 0-100
    grade: str  # "good", "fair" or "poor"
    points: dict[str, int]  # per check, the points earned
    suggestions: list[Suggestion]


@dataclass(frozen=True)
class _ListCheck:
    field: str
    points: int
    wanted: int
    singular: str  # "use case"
    plural: str
    empty_advice: str  # what to write when the field is empty
    phrases: bool = True  # entries are phrases that should say something (not ids or keywords)


_LIST_CHECKS = (
    _ListCheck(
        "ai_use_cases", 15, 3, "use case", "use cases", "ai_use_cases is empty: list the situations it is for"
    ),
    _ListCheck(
        "ai_target_audience",
        10,
        2,
        "target audience",
        "target audiences",
        "ai_target_audience is empty: say who it is for (level, age, style)",
        phrases=False,  # "beginners" says it all
    ),
    _ListCheck(
        "ai_best_for",
        10,
        2,
        "best-for point",
        "best-for points",
        "ai_best_for is empty: say what it does best",
    ),
    _ListCheck(
        "ai_avoid_when",
        10,
        1,
        "avoid-when point",
        "avoid-when points",
        "ai_avoid_when is empty: say who should not buy it",
    ),
    _ListCheck(
        "ai_keywords",
        10,
        5,
        "keyword",
        "keywords",
        "ai_keywords is empty: add the words shoppers use for it",
        phrases=False,
    ),
)
_DESCRIPTION_POINTS = 20
_COMPARISON_POINTS = 15
_COMPARISON_WANTED = 3
_LINK_POINTS = 10
_LINK_FIELDS = ("ai_similar_products", "ai_often_bought_with", "ai_upgrade_from", "ai_upgrade_to")
# Checks worth 100 together: the score is a percentage without rescaling.
assert _DESCRIPTION_POINTS + _COMPARISON_POINTS + _LINK_POINTS + sum(c.points for c in _LIST_CHECKS) == 100


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def _distinct(entries: Sequence[str]) -> list[str]:
    """The entries without repeats (case, accents and spacing aside), first wording kept."""
    first: dict[str, str] = {}
    for entry in entries:
        first.setdefault(_folded(entry), entry)
    return list(first.values())


def _vague(entries: Sequence[str]) -> int:
    return sum(1 for entry in entries if len(entry.split()) < MIN_PHRASE_WORDS)


def _grade(score: int) -> str:
    return "good" if score >= GOOD_SCORE else "fair" if score >= FAIR_SCORE else "poor"


def _list_check(check: _ListCheck, entries: Sequence[str]) -> tuple[int, list[Suggestion]]:
    if not entries:
        return 0, [Suggestion(field=check.field, text=check.empty_advice)]
    suggestions = []
    distinct = _distinct(entries)
    duplicates = len(entries) - len(distinct)
    # A vague entry (one word where a phrase is wanted) is there but says little: it counts half.
    vague = _vague(distinct) if check.phrases else 0
    earned = check.points * min(len(distinct) - vague / 2, check.wanted) / check.wanted
    if len(distinct) < check.wanted:
        missing = check.wanted - len(distinct)
        noun = check.singular if missing == 1 else check.plural
        suggestions.append(Suggestion(field=check.field, text=f"Add {missing} more {noun}"))
    if duplicates:
        suggestions.append(
            Suggestion(
                field=check.field, text=f"{check.field} repeats itself: remove {duplicates} duplicate(s)"
            )
        )
    if vague:
        suggestions.append(
            Suggestion(
                field=check.field,
                text=f"{check.field}: {vague} {check.singular if vague == 1 else check.plural} of a single "
                "word: write whole phrases (“first racket for club players”)",
            )
        )
    return max(round(earned), 0), suggestions


def _description_check(product: Product) -> tuple[int, list[Suggestion]]:
    text = product.ai_description.strip()
    if not text:
        return 0, [
            Suggestion(
                field="ai_description",
                text="ai_description is empty: describe in 2 or 3 sentences what it is, who it is for and "
                "what makes it different",
            )
        ]
    if len(text) < MIN_DESCRIPTION_CHARS:
        return round(_DESCRIPTION_POINTS * len(text) / MIN_DESCRIPTION_CHARS), [
            Suggestion(
                field="ai_description",
                text=f"ai_description is short ({len(text)} characters): aim for at least "
                f"{MIN_DESCRIPTION_CHARS}, with who it is for and what makes it different",
            )
        ]
    if _folded(text) == _folded(product.description):
        return _DESCRIPTION_POINTS // 2, [
            Suggestion(
                field="ai_description",
                text="ai_description repeats the shop description: write for the advisor (strengths, "
                "trade-offs, who should pick it)",
            )
        ]
    return _DESCRIPTION_POINTS, []


def _comparison_check(product: Product) -> tuple[int, list[Suggestion]]:
    points = product.ai_comparison_points
    if not points:
        return 0, [
            Suggestion(
                field="ai_comparison_points",
                text="ai_comparison_points is empty: add points such as power, control, weight with a "
                "short verdict each",
            )
        ]
    count = min(len(points), _COMPARISON_WANTED)
    if count < _COMPARISON_WANTED:
        missing = _COMPARISON_WANTED - count
        return round(_COMPARISON_POINTS * count / _COMPARISON_WANTED), [
            Suggestion(
                field="ai_comparison_points",
                text=f"Add {missing} more comparison point{'s' if missing > 1 else ''}",
            )
        ]
    return _COMPARISON_POINTS, []


def _link_check(product: Product, known_ids: Collection[str] | None) -> tuple[int, list[Suggestion]]:
    linked = [pid for name in _LINK_FIELDS for pid in getattr(product, name)]
    if not linked:
        return 0, [
            Suggestion(
                field="ai_similar_products",
                text="No linked products: name similar products, upgrades or what is often bought with it",
            )
        ]
    dangling = sorted({pid for pid in linked if known_ids is not None and pid not in known_ids})
    if dangling:
        return _LINK_POINTS // 2, [
            Suggestion(
                field="ai_similar_products",
                text=f"Linked products not in the catalog: {', '.join(dangling)}; fix or remove them",
            )
        ]
    return _LINK_POINTS, []


def understanding(product: Product, known_ids: Collection[str] | None = None) -> Understanding:
    """The product's score and suggestions; `known_ids` (the catalog's product ids, when at hand)
    lets links to products that do not exist count against it."""
    checks: dict[str, tuple[int, list[Suggestion]]] = {
        "ai_description": _description_check(product),
        **{check.field: _list_check(check, getattr(product, check.field)) for check in _LIST_CHECKS},
        "ai_comparison_points": _comparison_check(product),
        "links": _link_check(product, known_ids),
    }
    score = sum(points for points, _ in checks.values())
    return Understanding(
        product_id=product.id,
        score=score,
        grade=_grade(score),
        points={name: points for name, (points, _) in checks.items()},
        suggestions=[suggestion for _, found in checks.values() for suggestion in found],
    )
