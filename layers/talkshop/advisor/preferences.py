"""Deterministic preference extraction: what a shopper wants, read from chat messages without an LLM.

``extract("I'm a beginner, budget €50")`` gives ``skill_level="beginner"`` and a budget of at most 5000 EUR
(minor units). ``refine(current, message)`` merges a later message into what is already known and reports
the fields that changed and the contradictions to ask the shopper about.

Reading one message (English, with Spanish, French and Portuguese basics for the core flows):

* Price phrases, the currency and the soft needs come from :func:`talkshop.search.understanding.understand`
  (one price parser in the code base). Needs become fields: ``beginner``/``intermediate``/``advanced`` ->
  ``skill_level`` (``pro`` when a pro word such as "pro" or "professional" is named too), ``power``,
  ``control``, ``spin``, ``speed``, ``comfort``, ``durable`` -> ``goals`` (``durable`` as ``durability``),
  ``lightweight``/``heavy`` -> ``weight``, ``left-handed`` -> ``handedness``, ``tennis elbow`` ->
  ``physical_notes``. A single value field takes the first value the message names.
* Read here: weights in grams ("under 360 g", "at least 370 grams", "between 350 and 365 g", "around 350
  grams" and a bare "350 g" both mean ±10 g), "medium weight", right-handedness, play styles ("defensive",
  "aggressive", "all-round", "control player", "power game"...), shapes, materials (carbon, fiberglass,
  soft/medium/hard EVA, EVA, foam, soft/hard core), colours (canonical English names), other physical notes
  (wrist, back, shoulder, knee pain), product categories from product words and brands. Weight and
  material phrases are taken out of the text before ``understand`` reads it, so "lighter than 360 g" is
  a bound, not a wish for a light racket, and "soft core" is a material, not a comfort goal.
* Brands are the caller's ``known_brands`` (the catalog's), matched case-insensitively and accent-blind as
  whole words. A brand named under a negation or a dislike word ("not Vantaro", "I don't like Vantaro",
  "anything but Vantaro", "no me gusta Vantaro", "je n'aime pas Vantaro") is disliked; any other mention is
  liked. A negation reaches back across up to five filler words ("don't really want a racket from") and
  stops at punctuation or any other word; a mention joined to a negated one by "or", "and", "nor" or a
  slash is negated too ("not Vantaro or Kestrel"); a comma is not ("not light, heavy" is a correction).
* Negated values are skipped ("not for beginners", "no heavy rackets", "no red"). Physical notes are read
  even under a negation ("without elbow pain" still tells of an elbow). A product word that is only the
  context of the need, after a count or "for my" ("a bag for 2 rackets", "grips for my racket", "una
  bolsa para mis palas"), yields when another category is named: the object of the need is wanted.
* A play style is not a goal: "defensive" or "aggressive" set ``play_style`` only, while words that name a
  goal ("control player", "power game") set both.
* ``product_names`` are the names of products the message names (the caller resolves them): their words
  are taken out first, so "compare the Vantaro Strike Pro 18K" likes no brand, wants no pro level and asks
  for no category.

Merging (:func:`refine`):

* A value the new message names replaces the old one, field by field; lists accumulate without
  duplicates. Brands move: a liked brand now disliked leaves ``brands_liked`` (the shopper corrected
  themselves, no question asked), and the other way round. A value the new message negates is removed
  ("no heavy rackets" clears ``weight="heavy"``; "not red" drops red from ``colours``).
* A contradiction is a new value that cannot both hold with the old one: skill levels two or more steps
  apart (beginner then advanced or pro), light then heavy, a control or defensive style then a power or
  aggressive one, left then right hand, and budgets or gram ranges that do not overlap (at most €50, then at
  least €150). A contradiction never overwrites silently: the previous value is kept and a
  :class:`Contradiction` carries a short question for the shopper. The new value wins only when the
  message says it is a correction ("actually", "sorry", "I meant", "changed my mind", "en realidad", "en
  fait", "na verdade"...) or negates the old value in the same breath ("not heavy, light"). Anything else
  different (beginner then intermediate, round then diamond) is an update.
* With a budget known, amounts in a later message without a currency are read in that budget's currency;
  a budget in another currency replaces the old one.

Everything is deterministic: tables are compiled once at import, brand patterns are cached, and a message
takes well under two milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from talkshop.catalog.model import minor_unit_digits
from talkshop.search.understanding import MAX_QUERY_CHARS, understand
from talkshop.text import fold, words

__all__ = [
    "Budget",
    "Contradiction",
    "Extraction",
    "HandednessValue",
    "PlayStyle",
    "Preferences",
    "Shape",
    "SkillLevel",
    "WeightClass",
    "extract",
    "refine",
]

SkillLevel = Literal["beginner", "intermediate", "advanced", "pro"]
PlayStyle = Literal["control", "power", "all-round", "defensive", "aggressive"]
WeightClass = Literal["light", "medium", "heavy"]
HandednessValue = Literal["left", "right"]
Shape = Literal["round", "teardrop", "diamond"]


class Budget(BaseModel):
    """A price range in minor units of ``currency``; either bound may be open."""

    model_config = ConfigDict(extra="forbid")

    min_amount: int | None = Field(default=None, ge=0, description="Minor units, inclusive")
    max_amount: int | None = Field(default=None, ge=0, description="Minor units, inclusive")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code")


class Preferences(BaseModel):
    """What a shopper has told the advisor they want; everything is optional and empty by default."""

    model_config = ConfigDict(extra="forbid")

    budget: Budget | None = None
    skill_level: SkillLevel | None = None
    play_style: PlayStyle | None = None
    goals: list[str] = Field(default_factory=list, description="power, control, spin, speed, ...")
    brands_liked: list[str] = Field(default_factory=list)
    brands_disliked: list[str] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list, description="carbon, fiberglass, soft EVA, ...")
    weight: WeightClass | None = None
    max_weight_g: int | None = Field(default=None, gt=0)
    min_weight_g: int | None = Field(default=None, gt=0)
    colours: list[str] = Field(default_factory=list)
    handedness: HandednessValue | None = None
    physical_notes: list[str] = Field(default_factory=list, description="tennis elbow, wrist pain, ...")
    shape: Shape | None = None
    categories: list[str] = Field(default_factory=list, description="Category slugs: padel-rackets, ...")


class Contradiction(BaseModel):
    """A new value that cannot hold together with a known one: the known one was kept."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="The Preferences field")
    previous: str = Field(description="The value kept")
    new: str = Field(description="The value the latest message gave")
    question: str = Field(description="A short clarifying question to ask the shopper")


class Extraction(BaseModel):
    """The result of merging a message into known preferences."""

    model_config = ConfigDict(extra="forbid")

    preferences: Preferences
    changed: list[str] = Field(default_factory=list, description="Fields whose value changed, in order")
    contradictions: list[Contradiction] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------------------
# Lexicon (folded words; phrases separated by commas or new lines; value None blocks a phrase)
# --------------------------------------------------------------------------------------------------------

Table = dict[tuple[str, ...], str | None]


def _table(entries: Mapping[str | None, str]) -> Table:
    """{value: 'phrase, phrase'} -> {('phrase',): value}; the key None lists blocking phrases."""
    table: Table = {}
    for value, phrases in entries.items():
        for phrase in re.split(r"[,\n]", phrases):
            key = tuple(phrase.split())
            if key:
                table[key] = value
    return table


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NEGATORS = _word_set("""
    not no without avoid avoiding never dont doesnt didnt isnt arent wont nothing none neither nor ni sin
    sans sem non pas nao nunca jamais jamas hate hates dislike dislikes except excluding excepto exceto sauf
    odio detesto deteste evito evitar eviter""")
# Two-word negators: "anything but Vantaro", "other than red".
_NEGATOR_PAIRS = frozenset({("anything", "but"), ("other", "than"), ("apart", "from"), ("instead", "of")})
# Words a negation reaches across: "don't really want a racket from Vantaro", "no me gusta Vantaro".
_GAP = _word_set("""
    too very so a an the that is be are overly really particularly want wanted need like love any some
    anything something stuff for of from by with made brand brands one ones racket rackets paddle paddles
    shoes bag me gusta gustan quiero necesito muy tan demasiado un una el la los las de del para marca veux
    aime trop tres une le les du des pour marque quero gosto preciso muito um uma o os as do da para more
    again thanks thank please""")
# Words that join a mention to the one before it, so that a negation carries over: "not red or black". A
# comma does not: "not light, heavy" corrects itself.
_CONNECTORS = _word_set("or and nor ni y o ou et e /")
# Words that make a message a correction: the new value then wins over a contradicting old one.
_CORRECTION_RE = re.compile(
    r"\b(?:actually|sorry|correction|i meant|i mean|changed my mind|change of plans?|scratch that|on second"
    r" thought|en realidad|perdon|mejor dicho|corrijo|en fait|pardon|je voulais dire|na verdade|desculpa|"
    r"quer dizer|quis dizer)\b"
)

_SKILL_RANK: dict[str, int] = {"beginner": 0, "intermediate": 1, "advanced": 2, "pro": 3}
_PRO = _table({"pro": "pro, pros, professional, professionals, profesional, professionnel, profissional"})
_GOALS = {
    "power": "power",
    "control": "control",
    "spin": "spin",
    "speed": "speed",
    "comfort": "comfort",
    "durable": "durability",
}
_PLAY_STYLES = _table(
    {
        "defensive": """
        defensive, defensively, defensive player, play defense, play defence, defensivo, defensiva, defensif,
        defensivement""",
        "aggressive": """
        aggressive, aggressively, agresivo, agresiva, agressif, agressive, agressivo, agressiva, offensive,
        ofensivo, ofensiva, offensif, attacking, attacker, attacking player""",
        "all-round": """
        all round, allround, all rounder, allrounder, all round player, versatile, polivalente, polyvalent,
        polyvalente, todo terreno""",
        "control": """
        control player, control style, control game, control oriented, style control, juego de control,
        estilo de control, jugador de control, jeu de controle, style controle, jogo de controle,
        estilo de controle""",
        "power": """
        power player, power style, power game, power oriented, hard hitter, big hitter, juego de potencia,
        estilo de potencia, jugador de potencia, jeu de puissance, jogo de potencia, estilo de potencia""",
    }
)
_RIGHT_HANDED = _table(
    {
        "right": """
        right handed, right hand, righthanded, righty, diestro, diestra, droitier, droitiere, destro,
        destra"""
    }
)
_PHYSICAL = _table(
    {
        "wrist pain": """
        wrist, wrists, wrist pain, sore wrist, muneca, dolor de muneca, poignet, mal au poignet, pulso,
        dor no pulso""",
        "back pain": """
        back pain, bad back, sore back, back problem, back problems, back issue, back issues, lower back,
        backache, back injury, espalda, dolor de espalda, mal au dos, mal de dos, dor nas costas,
        dor de costas, dor lombar, lumbago""",
        "shoulder pain": """
        shoulder, shoulders, shoulder pain, sore shoulder, hombro, hombros, epaule, epaules, ombro, ombros""",
        "knee pain": "knee, knees, knee pain, sore knee, rodilla, rodillas, genou, genoux, joelho, joelhos",
    }
)
_SHAPES = _table(
    {
        "round": "round, round shape, redonda, redondo, ronde, rond",
        "teardrop": "teardrop, tear drop, tear, lagrima, goutte, goutte d eau, gota",
        "diamond": "diamond, diamante, diamant",
        None: "all round, allround, all rounder, round of, round trip, tear down",
    }
)
_COLOURS = _table(
    {
        "red": "red, rojo, roja, rojos, rojas, rouge, rouges, vermelho, vermelha",
        "blue": """
        blue, light blue, dark blue, sky blue, ice blue, azul, azules, bleu, bleue, bleus, bleues""",
        "navy": "navy, navy blue, marino, azul marino, marine, bleu marine, azul marinho",
        "black": "black, negro, negra, negros, negras, noir, noire, noirs, noires, preto, preta",
        "white": "white, blanco, blanca, blancos, blancas, blanc, blanche, blancs, blanches, branco, branca",
        "green": "green, light green, dark green, verde, verdes, vert, verte, verts, vertes",
        "yellow": "yellow, amarillo, amarilla, jaune, jaunes, amarelo, amarela",
        "pink": "pink, rosa, rosado, rosada, rose, roses",
        "orange": "orange, naranja, laranja",
        "grey": "grey, gray, gris, cinza, charcoal, graphite",
        "purple": "purple, violet, violeta, morado, morada, violette, roxo, roxa",
        "lilac": "lilac, lila, lilas",
        "mint": "mint, menta",
        "teal": "teal",
        "brown": "brown, marron, marrom, tan",
        "gold": "gold, golden, dorado, dorada, dore, dourado",
        "silver": "silver, plateado, plateada, argent, argente, prata, prateado",
        None: "black friday, white label",
    }
)
# Category slug -> product words. Longest phrase wins: "racket bag" is a bag.
_CATEGORIES = _table(
    {
        "padel-rackets": """
        racket, rackets, racquet, racquets, paddle, paddles, pala, palas, padel racket, padel rackets,
        raqueta, raquetas, raquette, raquettes, raquete, raquetes""",
        "padel-balls": "ball, balls, padel balls, pelota, pelotas, balle, balles, bola, bolas",
        "grips-overgrips": """
        grip, grips, overgrip, overgrips, over grip, over grips, grip tape, grip tapes, surgrip, surgrips""",
        "padel-shoes": """
        shoe, shoes, trainers, sneakers, padel shoes, zapatilla, zapatillas, chaussures, sapatilhas""",
        "padel-bags": """
        bag, bags, backpack, backpacks, racket bag, racket bags, paletero, paleteros, thermo bag, thermal bag,
        padel bag, mochila, bolsa, sac, sac de padel, shoe bag""",
        "padel-lessons": """
        lesson, lessons, class, classes, coaching, coach, clinic, clinics, camp, camps, course, courses,
        clase, clases, cours, aula, aulas""",
        "coffee-gear": """
        coffee, grinder, grinders, coffee grinder, coffee mill, dripper, drippers, pour over, espresso, beans,
        coffee beans, kettle, kettles, tamper, molinillo, moedor""",
        None: "good grip, better grip, great grip, more grip, grip on, grippy",
    }
)
# Words before a category word that make it the context of the need, not its object ("grips for my racket").
_FOR_WORDS = _word_set("for para pour pra")
_DETERMINERS = _word_set("""
    my the your our his her a an two three both mi mis tu tus su sus la las el los ma mon mes ta ton tes sa
    son ses le les nos meu minha meus minhas o os as""")
# Negated words whose values come from understand(): "not for beginners", "no heavy rackets", "no power".
_REJECTABLE: dict[str, Table] = {
    "weight": _table(
        {
            "heavy": "heavy, heavier, heavyweight, pesada, pesado, lourd, lourde",
            "light": "light, lighter, lightweight, ligera, ligero, leger, legere, leve",
        }
    ),
    "skill_level": _table(
        {
            "beginner": """
            beginner, beginners, novice, novices, principiante, principiantes, debutant, debutants, debutante,
            debutantes, iniciante, iniciantes""",
            "intermediate": "intermediate, intermedio, intermedia, intermediaire, intermediario",
            "advanced": "advanced, avanzado, avanzada, avance, avancado",
            "pro": "pro, pros, professional, profesional, professionnel, profissional",
        }
    ),
    "handedness": _table(
        {"left": "left handed, lefty, lefthanded, zurdo, zurda, gaucher, gauchere, canhoto, canhota"}
    ),
    "goals": _table(
        {
            "power": "power, potencia, puissance",
            "control": "control, controle",
            "spin": "spin, efecto, effet",
            "speed": "speed, velocidad, vitesse, velocidade",
        }
    ),
}
# understand()'s needs -> the (field, value) of _REJECTABLE that negates them.
_NEED_FIELDS: dict[str, tuple[str, str]] = {
    "beginner": ("skill_level", "beginner"),
    "intermediate": ("skill_level", "intermediate"),
    "advanced": ("skill_level", "advanced"),
    "lightweight": ("weight", "light"),
    "heavy": ("weight", "heavy"),
    "left-handed": ("handedness", "left"),
    "power": ("goals", "power"),
    "control": ("goals", "control"),
    "spin": ("goals", "spin"),
    "speed": ("goals", "speed"),
}

# Materials are found in the folded text (so they can be taken out before understand() reads it).
_MATERIALS: dict[str, str] = {
    "carbon": """
        carbon, carbon fibre, carbon fiber, full carbon, 3k carbon, 12k carbon, 18k carbon, 24k carbon,
        carbono, fibra de carbono, carbone, fibre de carbone""",
    "fiberglass": """
        fiberglass, fibreglass, fiber glass, fibre glass, glass fibre, glass fiber, fibra de vidrio,
        fibre de verre, fibra de vidro""",
    "soft EVA": "soft eva, eva soft, eva blanda, eva suave, eva souple, eva douce, eva macia, eva macio",
    "medium EVA": "medium eva, eva media, eva medium, eva moyenne",
    "hard EVA": "hard eva, eva hard, eva dura, eva duro, eva dure",
    "EVA": "eva, goma eva, eva rubber",
    "foam": "foam, soft foam, foam core, espuma, mousse",
    "soft core": """
        soft core, softer core, nucleo blando, nucleo suave, noyau souple, noyau mou, coeur souple,
        nucleo macio""",
    "medium core": "medium core, nucleo medio",
    "hard core": "hard core, firm core, harder core, nucleo duro, noyau dur, coeur dur",
}

# Weights in grams, over folded text.
_GRAM_UNIT = r"(?:g|gr|grs|gram|grams|gramme|grammes|gramo|gramos|grama|gramas)\b"
_GRAMS = r"(\d{2,4})\s*" + _GRAM_UNIT
_GRAMS_BARE_OR_UNIT = r"(\d{2,4})(?:\s*" + _GRAM_UNIT + r")?"
_WEIGHT_UPPER_WORDS = (
    r"under|below|less than|lighter than|not heavier than|no heavier than|max|maximum|max of|maximum of|"
    r"at most|up to|no more than|not more than|not over|menos de|hasta|como maximo|maximo|moins de|"
    r"jusqu ?a|au maximum|pas plus de|ate|no maximo|abaixo de"
)
_WEIGHT_LOWER_WORDS = (
    r"over|above|more than|heavier than|not lighter than|no lighter than|at least|min|minimum|no less than|"
    r"not less than|mas de|al menos|por lo menos|como minimo|plus de|au moins|au minimum|mais de|"
    r"pelo menos|no minimo|acima de"
)
_WEIGHT_AROUND_WORDS = (
    r"around|about|approximately|approx|roughly|circa|~|cerca de|alrededor de|unos|environ|autour de|"
    r"aproximadamente|uns|por volta de"
)
_WEIGHT_RE = re.compile(
    rf"(?:\b(?:between|from|entre|de)\s+)?{_GRAMS_BARE_OR_UNIT}\s*(?:-|to|and|y|a|et|e|à)\s*{_GRAMS}"
    rf"|(?:(?<![\w])(?P<up>{_WEIGHT_UPPER_WORDS})\s*{_GRAMS})"
    rf"|(?:(?<![\w])(?P<low>{_WEIGHT_LOWER_WORDS})\s*{_GRAMS})"
    rf"|(?:(?<![\w])(?P<around>{_WEIGHT_AROUND_WORDS})\s*{_GRAMS})"
    rf"|(?:{_GRAMS}\s*(?P<post>or less|or lighter|or under|max|maximum|at most|or more|or heavier|or over|"
    rf"min|minimum|plus|\+)?)"
)
_WEIGHT_AROUND_G = 10
_MEDIUM_WEIGHT_RE = re.compile(
    r"\b(?:medium|mid|middle|average)[\s-]*weight\b|\bpeso (?:medio|intermedio)\b|\bpoids moyen\b"
)
_TOKEN_RE = re.compile(r"[a-z0-9]+|[.,;:!?/()]")
_APOSTROPHES_RE = re.compile("['`\u2019\u00b4]")


def _alternation(phrases: Iterable[str]) -> str:
    """A regex alternation of folded phrases, longest first; a space matches spaces or a hyphen."""
    parts = []
    for phrase in sorted(set(phrases), key=lambda p: (-len(p), p)):
        parts.append(r"\b" + r"[\s-]+".join(re.escape(word) for word in phrase.split()) + r"\b")
    return "(?:" + "|".join(parts) + ")"


_MATERIAL_OF: dict[str, str] = {
    " ".join(phrase.split()): value
    for value, phrases in _MATERIALS.items()
    for phrase in phrases.split(",")
    if phrase.strip()
}
_MATERIAL_RE = re.compile(_alternation(_MATERIAL_OF))
# Style words that name no goal: "defensive" is a style, not a wish for control.
_STYLE_ONLY_RE = re.compile(
    _alternation(" ".join(key) for key, value in _PLAY_STYLES.items() if value in ("defensive", "aggressive"))
)


@lru_cache(maxsize=64)
def _brand_pattern(brands: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """A pattern matching any of the brands (folded), and folded name -> the brand as the caller spells it."""
    names: dict[str, str] = {}
    for brand in brands:
        key = " ".join(words(brand))
        if key and key not in names:
            names[key] = brand.strip()
    if not names:
        return None, names
    return re.compile(_alternation(names)), names


# --------------------------------------------------------------------------------------------------------
# Reading one message
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Reading:
    preferences: Preferences
    # field -> values the message negates ("no heavy rackets": weight -> {"heavy"})
    rejected: dict[str, set[str]] = field(default_factory=dict)
    correcting: bool = False


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    value: str
    negated: bool


def _scan(tokens: Sequence[str], table: Table) -> list[_Mention]:
    """The table's phrases in the tokens, longest first at each position, without overlaps."""
    longest = max((len(key) for key in table), default=0)
    mentions: list[_Mention] = []
    index = 0
    while index < len(tokens):
        for size in range(min(longest, len(tokens) - index), 0, -1):
            key = tuple(tokens[index : index + size])
            if key in table:
                value = table[key]
                if value is not None:
                    negated = _negated(tokens, index) or _joined_to_negated(tokens, index, mentions)
                    mentions.append(_Mention(index, index + size, value, negated))
                index += size
                break
        else:
            index += 1
    return mentions


def _negated(tokens: Sequence[str], start: int) -> bool:
    """Whether a negation comes before tokens[start], across at most five gap words."""
    index = start - 1
    for _ in range(6):
        if index < 0:
            return False
        token = tokens[index]
        if token in _NEGATORS or (index > 0 and (tokens[index - 1], token) in _NEGATOR_PAIRS):
            return True
        if token not in _GAP:
            return False
        index -= 1
    return False


def _joined_to_negated(tokens: Sequence[str], start: int, before: Sequence[_Mention]) -> bool:
    """Whether the mention at start follows a negated mention with only connectors between."""
    if not before or not before[-1].negated:
        return False
    return all(token in _CONNECTORS for token in tokens[before[-1].end : start])


def _positive(mentions: Iterable[_Mention]) -> list[str]:
    return list(dict.fromkeys(mention.value for mention in mentions if not mention.negated))


def _reject(rejected: dict[str, set[str]], name: str, mentions: Iterable[_Mention]) -> None:
    for mention in mentions:
        if mention.negated:
            rejected.setdefault(name, set()).add(mention.value)


def _read_weights(folded: str) -> tuple[str, int | None, int | None]:
    """The text with gram phrases blanked, and the tightest floor and ceiling stated (None if clashing)."""
    floors: list[int] = []
    ceilings: list[int] = []

    def take(match: re.Match[str]) -> str:
        numbers = [int(group) for group in match.groups() if group is not None and group.isdigit()]
        if len(numbers) == 2:
            floors.append(min(numbers))
            ceilings.append(max(numbers))
        elif match.group("up") or match.group("post") in {
            "or less",
            "or lighter",
            "or under",
            "max",
            "maximum",
            "at most",
        }:
            ceilings.append(numbers[0])
        elif match.group("low") or match.group("post") in {
            "or more",
            "or heavier",
            "or over",
            "min",
            "minimum",
            "plus",
            "+",
        }:
            floors.append(numbers[0])
        else:  # "around 350 g", or a bare "350 g"
            floors.append(numbers[0] - _WEIGHT_AROUND_G)
            ceilings.append(numbers[0] + _WEIGHT_AROUND_G)
        return " "

    text = _WEIGHT_RE.sub(take, folded)
    floor = max(floors) if floors else None
    ceiling = min(ceilings) if ceilings else None
    if floor is not None and floor <= 0:
        floor = None
    if floor is not None and ceiling is not None and floor > ceiling:
        return text, None, None
    return text, floor, ceiling


@lru_cache(maxsize=64)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """Product names (folded), also without a trailing parenthesis or their first word (the brand)."""
    phrases: set[str] = set()
    for name in names:
        bare = re.sub(r"\s*\([^)]*\)\s*$", "", name)
        for variant in (name, bare):
            tokens = words(variant)
            phrases.add(" ".join(tokens))
            if len(tokens) >= 3:
                phrases.add(" ".join(tokens[1:]))
    phrases.discard("")
    return re.compile(_alternation(phrases)) if phrases else None


def _is_context(tokens: Sequence[str], start: int) -> bool:
    """Whether the category word at ``start`` is what the need is for ("for my racket", "for 2 rackets")."""
    before = list(tokens[max(0, start - 2) : start])
    if before and before[-1].isdigit():
        return True
    if before and before[-1] in _FOR_WORDS:
        return True
    return len(before) == 2 and before[0] in _FOR_WORDS and before[1] in _DETERMINERS


def _read(
    message: str,
    known_brands: Iterable[str],
    default_currency: str = "EUR",
    product_names: Sequence[str] = (),
) -> _Reading:
    folded = fold(message[:MAX_QUERY_CHARS])
    names = _names_pattern(tuple(product_names))
    if names is not None:
        folded = names.sub(" ", folded)
    rejected: dict[str, set[str]] = {}
    correcting = _CORRECTION_RE.search(_APOSTROPHES_RE.sub("", folded)) is not None

    text, min_weight_g, max_weight_g = _read_weights(folded)
    medium_weight = _MEDIUM_WEIGHT_RE.search(text) is not None
    text = _MEDIUM_WEIGHT_RE.sub(" ", text)

    # Brands and materials become placeholder words: found once, kept out of understand()'s needs
    # ("Smash Academy" is no wish for power, "soft core" no comfort goal), and negatable like any word.
    found: dict[str, tuple[str, str]] = {}  # placeholder word -> (kind, value)

    def placeholder(kind: str, value: str) -> str:
        word = f"qq{len(found)}"
        found[word] = (kind, value)
        return f" {word} "

    pattern, brand_names = _brand_pattern(tuple(known_brands))
    if pattern is not None:
        text = pattern.sub(lambda m: placeholder("b", brand_names[" ".join(m.group().split())]), text)
    text = _MATERIAL_RE.sub(lambda m: placeholder("m", _MATERIAL_OF[" ".join(m.group().split())]), text)
    text = text.replace("-", " ")

    understood = understand(text, default_currency=default_currency)
    tokens = _TOKEN_RE.findall(_APOSTROPHES_RE.sub("", text))

    # Placeholders: brand and material mentions with their negation.
    liked: list[str] = []
    disliked: list[str] = []
    materials: list[str] = []
    for mention in _scan(tokens, {(word,): word for word in found}):
        kind, value = found[mention.value]
        if kind == "b":
            target = disliked if mention.negated else liked
            if value not in target:
                target.append(value)
        elif mention.negated:
            rejected.setdefault("materials", set()).add(value)
        elif value not in materials:
            materials.append(value)
    liked = [brand for brand in liked if brand not in disliked]

    # understand() skips the needs it sees negated; its negation reaches across fewer words than this
    # module's ("pas trop lourde"), so a need negated here and never named plainly is dropped too.
    named: dict[str, set[str]] = {}
    for name, table in _REJECTABLE.items():
        mentions = _scan(tokens, table)
        _reject(rejected, name, mentions)
        named[name] = set(_positive(mentions))
    needs = [
        need
        for need in understood.needs
        if not (
            need in _NEED_FIELDS
            and _NEED_FIELDS[need][1] in rejected.get(_NEED_FIELDS[need][0], ())
            and _NEED_FIELDS[need][1] not in named[_NEED_FIELDS[need][0]]
        )
    ]
    levels = [need for need in needs if need in ("beginner", "intermediate", "advanced")]
    skill: SkillLevel | None = None
    if levels:
        skill = "beginner" if levels[0] == "beginner" else "intermediate"
        if levels[0] == "advanced":
            skill = "pro" if _positive(_scan(tokens, _PRO)) else "advanced"

    weight: WeightClass | None = None
    weights = [need for need in needs if need in ("lightweight", "heavy")]
    if weights:
        weight = "light" if weights[0] == "lightweight" else "heavy"
    elif medium_weight:
        weight = "medium"

    style_mentions = _scan(tokens, _PLAY_STYLES)
    _reject(rejected, "play_style", style_mentions)
    styles = _positive(style_mentions)

    handedness: HandednessValue | None = "left" if "left-handed" in needs else None
    right = _scan(tokens, _RIGHT_HANDED)
    _reject(rejected, "handedness", right)
    if handedness is None and _positive(right):
        handedness = "right"

    shape_mentions = _scan(tokens, _SHAPES)
    _reject(rejected, "shape", shape_mentions)
    shapes = _positive(shape_mentions)

    colour_mentions = _scan(tokens, _COLOURS)
    _reject(rejected, "colours", colour_mentions)

    # Physical notes hold under a negation: "without wrist pain" still tells of a wrist.
    notes = ["tennis elbow"] if "tennis elbow" in needs else []
    physical = list(dict.fromkeys([*notes, *(mention.value for mention in _scan(tokens, _PHYSICAL))]))

    category_mentions = _scan(tokens, _CATEGORIES)
    _reject(rejected, "categories", category_mentions)
    categories = _positive(category_mentions)
    if len(categories) > 1:
        wanted = {m.value for m in category_mentions if not m.negated and not _is_context(tokens, m.start)}
        if wanted:
            categories = [category for category in categories if category in wanted]

    # "defensive" reads as a control need in search; here it is a style, and only other words give goals.
    goal_needs = set(needs)
    if _STYLE_ONLY_RE.search(text):
        goal_needs &= set(understand(_STYLE_ONLY_RE.sub(" ", text), default_currency=default_currency).needs)

    budget: Budget | None = None
    if understood.filters.min_price is not None or understood.filters.max_price is not None:
        budget = Budget(
            min_amount=understood.filters.min_price,
            max_amount=understood.filters.max_price,
            currency=understood.currency,
        )

    preferences = Preferences(
        budget=budget,
        skill_level=skill,
        play_style=styles[0] if styles else None,
        goals=[_GOALS[need] for need in needs if need in _GOALS and need in goal_needs],
        brands_liked=liked,
        brands_disliked=disliked,
        materials=materials,
        weight=weight,
        max_weight_g=max_weight_g,
        min_weight_g=min_weight_g,
        colours=_positive(colour_mentions),
        handedness=handedness,
        physical_notes=physical,
        shape=shapes[0] if shapes else None,
        categories=categories,
    )
    return _Reading(preferences, rejected, correcting)


def extract(message: str, known_brands: Iterable[str] = (), product_names: Sequence[str] = ()) -> Preferences:
    """The preferences one message states (see the module docstring for every rule). Never raises on text.

    ``known_brands`` are the catalog's brand names; a brand is recognised only if listed there. Amounts are
    minor units; without a currency in the message, euros. ``product_names`` are names of products the
    message names, whose words state no preference.
    """
    return _read(message, known_brands, product_names=product_names).preferences


# --------------------------------------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------------------------------------

_STYLE_SIDE = {"control": 0, "defensive": 0, "power": 1, "aggressive": 1}
_SKILL_WORDS = {
    "beginner": "a beginner",
    "intermediate": "intermediate",
    "advanced": "advanced",
    "pro": "a pro",
}
_CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£"}


def _conflicts(name: str, old: str, new: str) -> bool:
    if name == "skill_level":
        return abs(_SKILL_RANK[old] - _SKILL_RANK[new]) >= 2
    if name == "weight":
        return {old, new} == {"light", "heavy"}
    if name == "play_style":
        return old in _STYLE_SIDE and new in _STYLE_SIDE and _STYLE_SIDE[old] != _STYLE_SIDE[new]
    return name == "handedness"


def _question(name: str, old: str, new: str) -> str:
    if name == "skill_level":
        return (
            f"Earlier you described yourself as {_SKILL_WORDS[old]}, now as {_SKILL_WORDS[new]}. "
            "Which level should I go by?"
        )
    if name == "weight":
        return f"Earlier you asked for something {old}, now something {new}. Which do you prefer?"
    if name == "play_style":
        return f"Earlier you described your game as {old}, now as {new}. Which fits how you play?"
    return f"Earlier you said you play {old}-handed, now {new}-handed. Which hand do you play with?"


def _money(amount: int, currency: str) -> str:
    value = Decimal(amount).scaleb(-minor_unit_digits(currency))
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    sign = _CURRENCY_SIGNS.get(currency)
    return f"{sign}{text}" if sign else f"{text} {currency}"


def _describe(low: int | None, high: int | None, show: Callable[[int], str]) -> str:
    if low is not None and high is not None:
        return f"{show(low)} to {show(high)}"
    if high is not None:
        return f"at most {show(high)}"
    return f"at least {show(low)}" if low is not None else "any"


def _disjoint(old: tuple[int | None, int | None], new: tuple[int | None, int | None]) -> bool:
    (old_low, old_high), (new_low, new_high) = old, new
    return (new_low is not None and old_high is not None and new_low > old_high) or (
        new_high is not None and old_low is not None and new_high < old_low
    )


def _merge_range(
    old: tuple[int | None, int | None], new: tuple[int | None, int | None]
) -> tuple[int | None, int | None]:
    """New bounds replace old ones; a one-sided new range keeps the old other side."""
    if new[0] is not None and new[1] is not None:
        return new
    return (new[0] if new[0] is not None else old[0], new[1] if new[1] is not None else old[1])


def _add(items: Iterable[str], more: Iterable[str], removed: Iterable[str] = ()) -> list[str]:
    gone = set(removed)
    return [item for item in dict.fromkeys([*items, *more]) if item not in gone]


def refine(
    current: Preferences,
    message: str,
    known_brands: Iterable[str] = (),
    product_names: Sequence[str] = (),
) -> Extraction:
    """Merge a new message into the current preferences: updates, accumulated lists and contradictions.

    A new value replaces the old one unless the two contradict each other (module docstring); then the old
    value is kept and a :class:`Contradiction` with a question for the shopper is returned, unless the
    message marks itself as a correction or negates the old value. ``changed`` lists the fields whose value
    differs from ``current``, in field order. ``current`` is not modified. ``product_names``: see
    :func:`extract`.
    """
    currency = current.budget.currency if current.budget else "EUR"
    reading = _read(message, known_brands, currency, product_names)
    new = reading.preferences
    rejected = reading.rejected
    updates: dict[str, object] = {}
    contradictions: list[Contradiction] = []

    for name in ("skill_level", "play_style", "weight", "handedness", "shape"):
        old_value: str | None = getattr(current, name)
        new_value: str | None = getattr(new, name)
        if new_value is None:
            if old_value is not None and old_value in rejected.get(name, ()):
                updates[name] = None
            continue
        if (
            old_value is not None
            and old_value != new_value
            and not reading.correcting
            and old_value not in rejected.get(name, ())
            and _conflicts(name, old_value, new_value)
        ):
            question = _question(name, old_value, new_value)
            contradictions.append(
                Contradiction(field=name, previous=old_value, new=new_value, question=question)
            )
            continue
        updates[name] = new_value

    if new.budget is not None:
        old_budget = current.budget
        if old_budget is None or old_budget.currency != new.budget.currency:
            updates["budget"] = new.budget
        else:
            old_range = (old_budget.min_amount, old_budget.max_amount)
            new_range = (new.budget.min_amount, new.budget.max_amount)
            currency = old_budget.currency

            def show(amount: int) -> str:
                return _money(amount, currency)

            if _disjoint(old_range, new_range) and not reading.correcting:
                previous, latest = _describe(*old_range, show), _describe(*new_range, show)
                contradictions.append(
                    Contradiction(
                        field="budget",
                        previous=previous,
                        new=latest,
                        question=f"Earlier your budget was {previous}, now {latest}. "
                        "Which budget should I work with?",
                    )
                )
            else:  # a correction of a disjoint range replaces it: merging would leave min above max
                low, high = (
                    new_range if _disjoint(old_range, new_range) else _merge_range(old_range, new_range)
                )
                updates["budget"] = Budget(min_amount=low, max_amount=high, currency=currency)

    if new.min_weight_g is not None or new.max_weight_g is not None:
        old_range = (current.min_weight_g, current.max_weight_g)
        new_range = (new.min_weight_g, new.max_weight_g)
        if _disjoint(old_range, new_range) and not reading.correcting:
            previous, latest = _describe(*old_range, _grams), _describe(*new_range, _grams)
            rises = new_range[0] is not None and old_range[1] is not None and new_range[0] > old_range[1]
            name = "min_weight_g" if rises else "max_weight_g"
            contradictions.append(
                Contradiction(
                    field=name,
                    previous=previous,
                    new=latest,
                    question=f"Earlier you wanted {previous}, now {latest}. Which weight should I look for?",
                )
            )
        else:
            merged_range = (
                new_range if _disjoint(old_range, new_range) else _merge_range(old_range, new_range)
            )
            updates["min_weight_g"], updates["max_weight_g"] = merged_range

    updates["brands_liked"] = _add(current.brands_liked, new.brands_liked, new.brands_disliked)
    updates["brands_disliked"] = _add(current.brands_disliked, new.brands_disliked, new.brands_liked)
    for name in ("goals", "materials", "colours", "physical_notes", "categories"):
        updates[name] = _add(getattr(current, name), getattr(new, name), rejected.get(name, ()))

    merged = current.model_copy(update=updates, deep=True)
    changed = [name for name in Preferences.model_fields if getattr(merged, name) != getattr(current, name)]
    return Extraction(preferences=merged, changed=changed, contradictions=contradictions)


def _grams(amount: int) -> str:
    return f"{amount} g"
