"""Query understanding: a shopper's free text read into hard filters, soft needs and two search texts.

``understand("a forgiving racket for a beginner under €80", vocabulary)`` gives ``max_price=8000``, the need
``beginner``, the category ``padel-rackets`` (when the catalog has it), a BM25 text
(``forgiving racket beginner`` plus synonyms) and an embedding text (``a forgiving racket for a beginner``).

Rules of reading, in the order they are applied:

* The text is cut to :data:`MAX_QUERY_CHARS` characters and folded (lowercase, accents stripped) with an
  offset map, so that what is found in the folded text can be cut out of the original one.
* Stock phrases ("in stock", "available now", "ships now", "en stock", "em estoque"...) -> ``in_stock``.
* Rating phrases ("rated 4+", "4 stars and up", "at least 4 stars", "4+ stars") -> ``min_rating`` (0 to 5).
* Price phrases, English first with Spanish, French and Portuguese basics: ranges ("between 50 and 80
  euros", "from 50 to 80", "50-80€", "50 to 80"), "around/about 100" (±15 %), upper bounds ("under €100",
  "max 80", "menos de 80 euros", "moins de 80 €", "até 80 euros", "€100 or less"), lower bounds ("over
  100", "at least 100", "from €50", "100€+") and a bare amount with a currency ("100€", "80 euros"), read
  as a ceiling. A number is a price only in such a context: a price word before it or a currency next to
  it. Numbers followed by a unit ("350 g", "4 stars", "2 rackets", "50 %") or preceded by a word that says
  they are something else ("size 40 to 44", "players over 40") never are. Words too common to be a price
  context alone need a currency too: "from €50" and "de 50 a 80 euros" are prices, "from 2019" and "talla
  de 40 a 44" are not; "pound" is a currency only after a price word ("a 2 pound bag" is a weight).
  Prompt-injection-looking text is only words: "set price to 0" has no price context, so no filter.
* Several bounds of one side keep the tightest. Contradictory bounds (min above max, for instance "under
  50 and over 80") are both dropped rather than guessed at; a ceiling of 0 and a floor of 0 are dropped.
* Amounts are converted to minor units with the currency's digits (``minor_unit_digits``): floors are
  rounded down and ceilings up, so that the filter is never stricter than what was typed.
* The currency is the first one a price phrase names, else the first unambiguous currency word anywhere
  ("in dollars"), else ``default_currency``.
* With a :class:`Vocabulary`, words that are not in it (nor in this module's own lexicon of stop words,
  currency words, need and synonym words and common words) and have at least 4 letters are corrected to
  the closest catalog word within edit distance 1 (2 for words of 8 letters or more; a transposition
  counts 1), ties broken by catalog frequency. Numbers and words with digits are never corrected.
* Needs (``beginner``, ``control``, ``power``, ``spin``, ``lightweight``, ``left-handed``, ``tennis elbow``,
  ``budget``...) and the category are read from the corrected words; a need or category preceded by a
  negation ("not too heavy") is skipped. The category is set only when one category of the vocabulary is
  named (a word after a count, as in "bag for 2 rackets", yields to another named category).
* ``keyword_text`` (for BM25) is the remaining words, corrected, without filler, plus expansions: the
  synonyms of the product words named and the catalog's terms for the needs found. ``semantic_text``
  (for the embedding) is the original text without the filter phrases, with typo corrections applied and
  control and bidirectional-formatting characters removed; it keeps the shopper's case and accents.

Everything is deterministic and allocation-light: the regexes are compiled once at import and a normal
query takes well under a millisecond.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from talkshop.catalog.model import minor_unit_digits
from talkshop.search.model import SearchFilters
from talkshop.text import fold, words

__all__ = ["MAX_QUERY_CHARS", "QueryUnderstanding", "Vocabulary", "edit_distance", "understand"]

# Longer queries are the caller's concern: only this many characters are read.
MAX_QUERY_CHARS = 2000
# How far "around 100" reaches either side.
_AROUND = Decimal("0.15")
# Corrections remembered per vocabulary (queries repeat); past this many the cache stops growing.
_CORRECTION_CACHE_SIZE = 10_000
_MAX_CATEGORY_LENGTH = 64

T = TypeVar("T")


class QueryUnderstanding(BaseModel):
    """The structured reading of one shopper query.

    ``filters`` holds only what the text states as a hard constraint (price, rating, stock, category); the
    caller merges it with filters it got otherwise. Prices are minor units of ``currency``.
    """

    model_config = ConfigDict(extra="forbid")

    original: str = Field(description="The text that was read (the query, cut to MAX_QUERY_CHARS)")
    keyword_text: str = Field(description="For BM25: content words, typos corrected, plus expansions")
    semantic_text: str = Field(description="For the embedding: the query without its filter phrases")
    filters: SearchFilters = Field(default_factory=SearchFilters)
    needs: list[str] = Field(default_factory=list, description="Normalised soft needs, in query order")
    corrections: dict[str, str] = Field(default_factory=dict, description="Typo -> corrected word")
    expansions: list[str] = Field(default_factory=list, description="Terms added to keyword_text")
    currency: str = Field(description="ISO 4217 code the price filters are expressed in")


# --------------------------------------------------------------------------------------------------------
# Lexicon (folded words; phrases separated by commas or new lines)
# --------------------------------------------------------------------------------------------------------


def _phrases(text: str) -> tuple[str, ...]:
    """'a, b c\\nd' -> ('a', 'b c', 'd'): lets the lexicon tables below stay compact and readable."""
    return tuple(dict.fromkeys(part.strip() for part in re.split(r"[,\n]", text) if part.strip()))


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Needs: canonical name -> the phrases that express it.
_NEED_TRIGGERS: dict[str, tuple[str, ...]] = {
    "beginner": _phrases("""
        beginner, beginners, beginner friendly, just starting, starting out, just started, first racket,
        first padel racket, first paddle, new to padel, new player, new players, novice, novices, starter,
        forgiving, learner, learners, learning, learn padel, entry level, principiante, principiantes,
        debutant, debutante, debutants, debutantes, iniciante, iniciantes, iniciacion"""),
    "intermediate": _phrases("""
        intermediate, improver, improvers, club player, club level, mid level, intermedio, intermedia,
        intermediaire, intermediario"""),
    "advanced": _phrases("""
        advanced, pro, pros, professional, expert, experts, competitive, competition, avanzado, avanzada,
        avance, avancado, profesional"""),
    "control": _phrases("""
        control, precision, precise, accuracy, accurate, defensive, defense, defence, controle, defensiva,
        defensivo, defensif"""),
    "power": _phrases("""
        power, powerful, aggressive, attacking, attack, offensive, smash, smashes, hard hitting, hard hitter,
        big hitter, potencia, potente, puissance, puissant, ofensiva, ofensivo, agresivo, agressif"""),
    "spin": _phrases("spin, topspin, slice, efecto, effet, rough face, rough surface, textured"),
    "lightweight": _phrases("""
        lightweight, light weight, light, lighter, lightest, featherweight, ligera, ligero, leger, legere,
        leve"""),
    "heavy": _phrases("heavy, heavier, heaviest, heavyweight, pesada, pesado, lourd, lourde"),
    "left-handed": _phrases("""
        left handed, left hand, lefthanded, lefty, leftie, lefties, southpaw, zurdo, zurda, gaucher,
        gauchere, canhoto, canhota"""),
    "tennis elbow": _phrases("""
        tennis elbow, elbow, elbows, elbow pain, sore elbow, arm friendly, arm pain, sore arm,
        epicondylitis, epicondilitis, codo de tenista, codo, coude, cotovelo"""),
    "durable": _phrases("""
        durable, durability, long lasting, lasts long, sturdy, tough, robust, resistant, hard wearing,
        heavy duty, duradero, duradera, resistente, solide, duravel"""),
    "comfort": _phrases("""
        comfort, comfortable, comfy, cushioned, cushioning, soft, low vibration, anti vibration,
        no vibration, less vibration, vibration, vibrations, dampening, comodo, comoda, confort,
        confortable, conforto, confortavel"""),
    "speed": _phrases("""
        speed, fast, faster, quick, quicker, maneuverable, manoeuvrable, maneuverability, manoeuvrability,
        handling, velocidad, rapido, rapida, rapide, vitesse, velocidade"""),
    "budget": _phrases("""
        cheap, cheaper, cheapest, budget, affordable, inexpensive, not expensive, not too expensive,
        low cost, low price, low priced, value, good value, value for money, bargain, economical, barato,
        barata, economico, economica, pas cher, bon marche"""),
}
# Longer phrases that keep a need word from matching inside them: "light roast" is no lightweight racket.
_NEED_BLOCKERS = _phrases("""
    light roast, light blue, light green, light grey, light gray, light pink, light colour, light color,
    light coloured, light colored, temperature control, fast delivery, fast shipping, quick delivery,
    ships fast""")
# Needs that a negation does not cancel: "without elbow pain", "no vibration" still ask for them.
_NEGATION_IMMUNE = frozenset({"tennis elbow", "comfort"})
# The catalog's own terms for each need (the demo catalog's ai_tags and ai_keywords), added to the BM25 text.
_NEED_TERMS: dict[str, tuple[str, ...]] = {
    "beginner": ("beginner", "beginner-friendly"),
    "intermediate": ("intermediate",),
    "advanced": ("advanced", "pro"),
    "control": ("control",),
    "power": ("power",),
    "spin": ("spin",),
    "lightweight": ("lightweight",),
    "heavy": ("heavy",),
    "left-handed": ("left-handed",),
    "tennis elbow": ("tennis elbow",),
    "durable": ("durable",),
    "comfort": ("comfort",),
    "speed": ("speed",),
    "budget": ("budget", "cheap"),
}

# Synonym groups: (members, more triggers). Naming a member or a trigger adds the members the query lacks.
_SYNONYM_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        _phrases("racket, racquet, paddle, pala, pala de padel"),
        _phrases("""
            rackets, racquets, paddles, palas, padel racket, padel rackets, raqueta, raquetas, raquette,
            raquettes, raquete, raquetes"""),
    ),
    (
        _phrases("overgrip, grip tape, overgrips"),
        _phrases("grip tapes, over grip, over grips, surgrip, surgrips"),
    ),
    (
        _phrases("shoes, trainers, sneakers, zapatillas"),
        _phrases("shoe, trainer, sneaker, zapatilla, padel shoes, chaussures"),
    ),
    (
        _phrases("bag, backpack, racket bag, paletero, thermo bag"),
        _phrases("""
            bags, backpacks, racket bags, paleteros, thermo bags, thermal bag, thermobag, padel bag, mochila,
            bolsa"""),
    ),
    (_phrases("balls, ball"), _phrases("padel balls, pelotas, pelota, balles, bolas")),
    (
        _phrases("lesson, class, coaching, clinic, camp"),
        _phrases(
            "lessons, classes, clinics, camps, padel lesson, padel lessons, clase, clases, cours, aula, aulas"
        ),
    ),
    (
        _phrases("grinder, coffee mill"),
        _phrases("grinders, coffee grinder, coffee grinders, molinillo, moedor"),
    ),
    (_phrases("pour over, dripper"), _phrases("pourover, drippers")),
)
# One-way groups: (added, triggers). "beans" adds "coffee"; "coffee grinder" must not add "beans".
_ONE_WAY_SYNONYMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("coffee",), _phrases("beans, bean, coffee beans, coffee bean, granos de cafe, grains de cafe")),
)

# Category slug -> the phrases that name it. Only the slugs the vocabulary lists are used; those, and any
# other slug, are also named by their own words ("yoga mats", "mats", "mat").
_CATEGORY_TRIGGERS: dict[str, tuple[str, ...]] = {
    "padel-rackets": _phrases("""
        racket, rackets, racquet, racquets, paddle, paddles, pala, palas, pala de padel, padel racket,
        padel rackets, raqueta, raquetas, raquette, raquettes, raquete, raquetes"""),
    "padel-balls": _phrases("ball, balls, padel balls, pelota, pelotas, balle, balles, bola, bolas"),
    "grips-overgrips": _phrases("""
        grip, grips, overgrip, overgrips, over grip, over grips, grip tape, grip tapes, surgrip, surgrips,
        replacement grip, replacement grips, base grip"""),
    "padel-shoes": _phrases(
        "shoe, shoes, trainers, sneakers, padel shoes, zapatilla, zapatillas, chaussures"
    ),
    "padel-bags": _phrases("""
        bag, bags, backpack, backpacks, racket bag, racket bags, racket cover, racket sleeve, paletero,
        paleteros, thermo bag, thermo bags, thermal bag, thermobag, padel bag, mochila, bolsa, shoe bag"""),
    "padel-lessons": _phrases("""
        lesson, lessons, class, classes, coaching, coach, clinic, clinics, camp, camps, course, courses,
        bootcamp, clase, clases, cours, aula, aulas"""),
    "coffee-gear": _phrases("""
        coffee, coffee grinder, grinder, grinders, coffee mill, dripper, drippers, pour over, pourover,
        espresso, beans, coffee beans, kettle, kettles, tamper, tampers, cafe, milk jug, coffee filters"""),
}
# "shoes with good grip" names no grip.
_CATEGORY_BLOCKERS = _phrases("good grip, better grip, great grip, more grip, grip on, grippy")

_NEGATORS = _word_set("""
    not no without avoid never dont don doesnt doesn isnt isn nothing sin sans sem ni nor non""")
# Words a negation may reach across: "not too heavy", "don't want a heavy one".
_NEGATION_GAP = _word_set("""
    too very so a an the that is be overly really particularly want need like something anything t s m any
    it extremely super muy tres muito demasiado trop un una une um uma to for good suitable ideal great meant
    made designed""")

# Filler: dropped from the BM25 text, never corrected.
_STOP_WORDS = _word_set("""
    a about above after again against all also am an and any anything are around as at be because been
    before being below best between both but by can could did do does doing down during each either else
    even ever every few for from further get give good great had has have having he her here hers him his
    how i id if ill im in into is it its ive just least less like looking look lot lots many maybe me might
    mine more most much must my myself need needs nice now of off on once one ones only or other our out
    own please pls plus quite rather really recommend recommendation recommendations she should show so
    some something somebody someone such suggest suggestion than thank thanks that the their them then
    there these they thing things this those though through to too under until up upon us very via want
    wanted wanting wants was we well were what whatever when where which while who whom why will with
    within would you your yours hi hello hey ok okay find finding search searching buy buying getting got
    max min maximum minimum approx approximately roughly
    not no without avoid never dont don doesnt doesn isnt isn nothing t s m d ll ve re
    el la los las un una unos unas de del al para por con y o u que en es mi busco quiero necesito algo
    algun alguna sin hola gracias favor
    le les des du une pour avec et ou je cherche veux besoin quelque chose sans bonjour merci moi mon ma
    mes au aux est
    os as um uma com e procuro quero preciso sem ola obrigado obrigada do da dos das na""")

# Currency symbols, codes and words (folded). The ambiguous words ("pound", "livre", "libra") count only
# next to a number; the others also set the currency from anywhere in the query ("in dollars").
_CURRENCY_SYMBOLS: dict[str, str] = {"€": "EUR", "$": "USD", "us$": "USD", "£": "GBP", "¥": "JPY"}
_CURRENCY_CODES = _phrases("eur, usd, gbp, chf, jpy, cad, aud, sek, nok, dkk, pln, brl, mxn")
_CURRENCY_WORDS: dict[str, str] = {
    "euro": "EUR",
    "euros": "EUR",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "dolar": "USD",
    "dolares": "USD",
    "yen": "JPY",
    "reais": "BRL",
}
_AMBIGUOUS_CURRENCY_WORDS: dict[str, str] = {
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "libra": "GBP",
    "libras": "GBP",
    "livre": "GBP",
    "livres": "GBP",
}

# Words after a bare number that make it something else than a price: "350 g", "2 rackets", "4 stars".
_UNITS = _word_set("""
    g gr grs gram grams gramme grammes gramos gramas kg kgs kilo kilos mm cm m ml cl l lt litre litres liter
    liters oz lb lbs inch inches ft feet star stars estrella estrellas etoile etoiles estrela estrelas pack
    packs pk pcs pc piece pieces unit units item items x racket rackets racquet racquets paddle paddles pala
    palas ball balls pelota pelotas tube tubes can cans grip grips overgrip overgrips shoe shoes pair pairs
    bag bags lesson lessons session sessions class classes player players people person persons kid kids
    adult adults hour hours h hr hrs min mins minute minutes day days week weeks month months year years yr
    yrs yo cup cups size sizes percent pct times review reviews rating ratings point points w watt watts v
    mah bar degrees deg mph kmh km""")
# Words right before a price phrase whose number is then something else: "size 40 to 44", "players over 40".
_NON_PRICE_BEFORE = _word_set("""
    size sizes talla tallas pointure taille tamanho numero number no num model version age ages aged player
    players people kids juniors seniors adults weight weighing weighs weigh peso poids level rated rating
    ratings stars capacity length width diameter year years thickness volume holds fits fit""")
# Everyday English no typo correction may touch: a catalog's vocabulary is small, and "wife" must not become
# "wide" nor "table" "stable". Inflected forms of these words are protected too (see _is_protected).
_COMMON_WORDS = _word_set("""
    wife husband girlfriend boyfriend partner son daughter kid child children friend mother father mom mum
    dad brother sister family baby parent grandson granddaughter uncle aunt cousin colleague boss coach gift
    present birthday christmas anniversary holiday summer winter spring autumn fall weekend tonight color
    colour black white blue red green pink yellow grey gray orange purple brown silver gold beige navy size
    price cost quality brand model version new old used order shop store play game match court club team
    week today tomorrow yesterday year month day hour time hand arm wrist shoulder knee back foot feet leg
    head body wide narrow small large big medium long short high low better nice women woman men man lady
    ladies junior senior adult indoor outdoor home office travel work school help would could should which
    where there their they them this that these those able about above accept account across act action
    active actual add address admin advice after again age agent ago agree ahead air alert allow almost
    alone along already alright always amount animal another answer anyone anything anyway anywhere apart
    appear apply area around arrive art article ask assistant attention available average away bad bank
    base basic beautiful become bed begin behind believe belong below beside between beyond bill bit board
    book both bottom box break bring build business busy button buy call came can card care carry case
    cause center centre certain chance change charge check choice choose city class clean clear click close
    cloth clothes code cold come command common company compare complete computer condition consider
    contact contain content continue control cook cool copy correct could count country course cover create
    current customer cut damage dark data database date deal dear decide default delete deliver delivery
    describe design detail develop developer device different difficult dinner direct direction discount
    display doctor document dog door double down draw dream dress drink drive drop during each early easy
    eat edge effect either else email empty end enough enter entire error even evening event ever every
    everyone everything exactly example except exchange execute exist expect expensive experience explain
    extra eye face fact false far fast feel few field file fill final find fine finish fire first fit floor
    follow food force forget form format forward free fresh front full fun function future garden general
    get girl give glass goal good great ground group grow guess guest guy half hair happen happy hard hate
    have health hear heart hello help here hide history hold hole honest hope horse hot house however huge
    human idea ignore image important include info information inside instead instruction instructions
    interest internet issue item join joke jump just keep key kind kitchen know language last late later
    laugh learn leave left less let letter level life lift like line link list listen little live local lock
    look lose lot love lovely machine mail main make manager many mark market matter maybe mean message
    middle might mind minute miss mistake mode moment money more morning most move movie much music must
    name near need never next night none normal note nothing notice now null number object offer often open
    option order other output over override own page paper part party pass password past pay people perfect
    perhaps person phone photo pick picture piece place plan plant please point policy poor popular possible
    post power prefer prepare press pretty previous print private problem process produce product prompt
    proper provide public pull purpose push put query question quick quiet quite rain raise range rather
    reach read ready real reason receive recent record reduce refund remember remove repeat reply report
    request reset respond response rest result return review rich ride right ring rise road role room root
    round row rule run safe sale same save say school screen script search season seat second secret
    section see seem select sell send sense sentence serious serve server service session set setting
    several shape share ship shirt shoe shop short show side sign similar simple since single site sit skip
    sleep slow smart smile soft some someone something sometimes soon sorry sort sound source space speak
    special spend sport staff stage stand star start state status stay step still stop story straight
    strange street strong student study style subject such sugar suggest sun supply support sure surprise
    system table take talk task taste tea teach tell term test text than thank then thing think though
    through throw ticket tired title together token top total touch toward town track trade train tree trip
    true trust truth try turn type under understand unit until update upon user usual value very view visit
    voice wait walk wall want warm watch water way wear weather web website weight welcome well whole why
    will win window wish with within without wonder word world worry write wrong yes yet young""")

# --------------------------------------------------------------------------------------------------------
# Patterns (over folded text)
# --------------------------------------------------------------------------------------------------------


def _alternation(phrases: Iterable[str]) -> str:
    """A regex alternation of phrases, longest first; spaces inside a phrase match spaces or a hyphen."""
    parts = []
    for phrase in sorted(set(phrases), key=lambda p: (-len(p), p)):
        body = r"[\s-]+".join(re.escape(word) for word in phrase.split(" "))
        if phrase[0].isalnum():
            body = r"\b" + body
        if phrase[-1].isalnum():
            body += r"\b"
        parts.append(body)
    return "(?:" + "|".join(parts) + ")"


_CUR_PRE = _alternation([*_CURRENCY_SYMBOLS, *_CURRENCY_CODES])
_CUR_POST = _alternation([*_CURRENCY_SYMBOLS, *_CURRENCY_CODES, *_CURRENCY_WORDS, *_AMBIGUOUS_CURRENCY_WORDS])
# An amount: "80", "79.99", "79,99", "1,299", "1.299,50". Thousands groups have three digits, a decimal part
# at most two. Never glued to a word or another number on its left.
_NUM = r"(?<![\w.,])(?:\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?!\d)"


def _money(tag: str) -> str:
    return (
        rf"(?:(?P<pre{tag}>{_CUR_PRE})\s*)?(?P<num{tag}>{_NUM})(?P<k{tag}>k(?![a-z]))?"
        rf"(?:\s*(?P<post{tag}>{_CUR_POST}))?"
    )


# Words that may come right before a price phrase and belong to it: "for under 80", "priced at 80 euros".
_LEAD = (
    r"(?:\b(?:for|at|priced|costing|costs?|that costs?|which costs?|prices?|precio|prix|preco|por|pour)"
    r"\s+)?"
)
# "max price 80", "under a budget of 80".
_PRICE_WORD = (
    r"(?:(?:(?:a|my|the)\s+)?(?:price|budget|precio|prix|preco|presupuesto|orcamento)\s*(?:of|is|de|:)?\s*)?"
)
_UPPER_WORDS = _phrases("""
    under, below, beneath, less than, lower than, cheaper than, not more than, no more than, not over,
    no higher than, max, max., maximum, maximum of, max of, at most, up to, upto, within, budget, budget of,
    budget is, my budget is, a budget of, my budget, for less than, <, <=
    menos de, por menos de, hasta, maximo, como maximo, no mas de, por debajo de, inferior a, menor que,
    menos que, presupuesto de, presupuesto
    moins de, moins que, pour moins de, jusqu'a, jusqu a, au maximum, pas plus de, en dessous de,
    en-dessous de, inferieur a
    ate, no maximo, abaixo de, orcamento de""")
_LOWER_WORDS = _phrases("""
    over, above, more than, at least, min, min., minimum, minimum of, no less than, not less than,
    greater than, higher than, starting at, upwards of, >, >=
    mas de, al menos, por lo menos, minimo, mayor que, superior a, por encima de
    plus de, au moins, au minimum, plus que, superieur a, au dessus de, au-dessus de
    mais de, pelo menos, no minimo, acima de""")
# Lower-bound words too common to make a bare number a price: "from €50" is one, "from 2019" is not.
_LOWER_WORDS_NEEDING_CURRENCY = _phrases("from, starting from, desde, a partir de, des, des de")
_AROUND_WORDS = _phrases("""
    around, about, approx, approx., approximately, roughly, circa, close to, ~, in the region of,
    alrededor de, cerca de, unos, aproximadamente, environ, autour de, aux alentours de, vers,
    por volta de, uns""")
_UPPER_AFTER = _phrases("""
    or less, or under, or below, or cheaper, or lower, max, max., maximum, tops, at most, and under,
    and below, o menos, como maximo, maximo, ou moins, au maximum, ou menos, no maximo""")
_LOWER_AFTER = _phrases("""
    or more, and up, and above, and over, or over, or higher, plus, +, minimum, min, at least, o mas, y mas,
    ou plus, et plus, ou mais, e mais, no minimo""")
_RANGE_OPENERS = _phrases("between, from, entre, de, des, du, desde")
_RANGE_JOINERS = _phrases("and, to, up to, till, until, -, y, a, et, e, ate")
# Joiners that need a currency when no opener word came first: "50-80€" is a price range, "8-12" is not.
_JOINERS_NEEDING_CURRENCY = frozenset({"-", "a", "ate"})
# Openers too common to make bare numbers prices: "de 50 a 80 euros" is a range, "talla de 40 a 44" is not.
_OPENERS_NEEDING_CURRENCY = frozenset({"de", "des", "du"})
# Joiners that make a range only after an opener: "between 50 and 80", never "50 and 80".
_JOINERS_NEEDING_OPENER = frozenset({"and", "y", "et", "e"})
# Words that belong to price, rating and stock phrases: never corrected.
_FILTER_WORDS = _word_set("""
    under below less than lower cheaper more over above least most between around about upto within budget
    price priced costing starting upwards greater higher approximately roughly circa stock available ships
    ready rated rating stars menos hasta maximo debajo inferior moins jusqu dessous plus entre alrededor
    cerca environ autour alentours partir desde mais acima abaixo pelo minimo presupuesto orcamento precio
    prix preco""")

_RANGE_RE = re.compile(
    _LEAD
    + rf"(?:(?P<opener>{_alternation(_RANGE_OPENERS)})\s+)?"
    + _PRICE_WORD
    + _money("a")
    + rf"\s*(?P<joiner>{_alternation(_RANGE_JOINERS)})\s*"
    + _money("b")
)
_AROUND_RE = re.compile(_LEAD + _alternation(_AROUND_WORDS) + r"\s*" + _PRICE_WORD + _money("a"))
_UPPER_RE = re.compile(_LEAD + _alternation(_UPPER_WORDS) + r"\s*:?\s*" + _PRICE_WORD + _money("a"))
_LOWER_RE = re.compile(
    _LEAD
    + rf"(?:(?P<soft>{_alternation(_LOWER_WORDS_NEEDING_CURRENCY)})|{_alternation(_LOWER_WORDS)})"
    + r"\s*"
    + _PRICE_WORD
    + _money("a")
)
_POSTFIX_RE = re.compile(
    _LEAD
    + _money("a")
    + rf"\s*(?:(?P<upper>{_alternation(_UPPER_AFTER)})|(?P<lower>{_alternation(_LOWER_AFTER)}))"
    + rf"(?:\s*(?P<postb>{_CUR_POST}))?"
)
_BARE_RE = re.compile(_LEAD + _money("a"))
_CURRENCY_ANYWHERE_RE = re.compile(_alternation([*_CURRENCY_SYMBOLS, *_CURRENCY_CODES, *_CURRENCY_WORDS]))

_RATING_NUM = r"(?<![\w.,])(?P<r>[0-5](?:[.,]\d{1,2})?)(?!\d)"
_RATING_NUM2 = r"(?<![\w.,])(?P<r2>[0-5](?:[.,]\d{1,2})?)(?!\d)"
_STARS = r"(?:-?\s*(?:stars?|estrellas?|etoiles?|estrelas?|★+))"
_AT_LEAST = _alternation(
    _phrases("""
        at least, minimum, minimum of, min, above, over, more than, >, >=, al menos, por lo menos, mas de,
        minimo, au moins, plus de, pelo menos, mais de, no minimo""")
)
_OR_MORE = _alternation(
    _phrases("""
        +, plus, or more, or higher, or better, or above, or up, and up, and above, and over, and higher,
        and better, y mas, o mas, ou plus, et plus, ou mais, e mais""")
)
_RATING_WORD = _alternation(
    _phrases("""
        rated, rating, rating of, a rating of, with a rating of, rated at, ratings, valoracion,
        valoracion de, valorado, valorada, note, note de, avaliacao, avaliado, avaliada""")
)
_RATING_RES = (
    # "between 3 and 4 stars": the lower end.
    re.compile(
        rf"\b(?:between|from|entre|de)\s+{_RATING_NUM}\s*(?:and|to|-|y|et|e|a)\s*{_RATING_NUM2}\s*{_STARS}"
    ),
    # "rated 4+", "rating of at least 4.5", "rated 4 stars and up", "rated 4/5".
    re.compile(
        rf"{_RATING_WORD}\s*(?:{_AT_LEAST}\s*)?{_RATING_NUM}\s*{_STARS}?(?:\s*/\s*5)?(?:\s*{_OR_MORE})?"
    ),
    # "4 stars and up", "at least 4 stars", "4+ stars", "4-star rated".
    re.compile(
        rf"(?:{_AT_LEAST}\s*)?{_RATING_NUM}\s*\+?\s*{_STARS}(?:\s*(?:rating|rated|reviews?))?"
        rf"(?:\s*{_OR_MORE})?"
    ),
    # "4+ rating", "4.5 rated".
    re.compile(rf"{_RATING_NUM}\s*\+?\s*(?:rating|rated)\b"),
)
# "under 4 stars" is no floor: a rating phrase right after one of these words is left alone.
_UPPER_BEFORE_RE = re.compile(
    r"(?:under|below|less than|at most|max|maximum|up to|no more than|menos de|moins de)\s*$"
)
_STOCK_RE = re.compile(
    r"(?<!not )(?<!no )(?<!isn't )(?<!isnt )"
    r"\b(?:in[\s-]?stock|available\s+(?:right\s+)?(?:now|today|immediately)|currently\s+available"
    r"|ships?\s+(?:now|today|immediately|right\s+away)|ready\s+to\s+ship|en\s+stock|em\s+(?:stock|estoque)"
    r"|disponibles?\s+(?:ahora|ya|maintenant|immediatement|tout\s+de\s+suite)|disponivel\s+(?:agora|ja)"
    r"|pronta\s+entrega)\b"
)
_TOKEN_RE = re.compile(r"[a-z0-9]+")
_LAST_WORD_RE = re.compile(r"([a-z0-9]+)[^a-z0-9]*$")
_NEXT_WORD_RE = re.compile(r"\s*-?\s*([a-z%]+)")
_CHAR_REPLACEMENTS = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u00a0": " ",
    "\u2264": "<=",
    "\u2265": ">=",
    "\uff5e": "~",
}
_SEMANTIC_SPACE_RE = re.compile(r"\s+")
# Control and bidirectional-formatting characters: noise to the embedding, and a classic spoofing trick.
_SEMANTIC_CONTROL_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)
_SEMANTIC_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([,.;:!?)])")
_SEMANTIC_REPEATED_PUNCT_RE = re.compile(r"([,;:])(?:\s*[,;:])+")
_SEMANTIC_EMPTY_BRACKETS_RE = re.compile(r"\(\s*\)|\[\s*\]")
_SEMANTIC_EDGES = " \t\n,;:-"


# --------------------------------------------------------------------------------------------------------
# Phrase tables
# --------------------------------------------------------------------------------------------------------


class _PhraseTable(Generic[T]):
    """Greedy longest-match lookup of word sequences in a token list."""

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        by_first: dict[str, dict[tuple[str, ...], T]] = {}
        for phrase, value in entries:
            key = tuple(_TOKEN_RE.findall(fold(phrase)))
            if key:
                by_first.setdefault(key[0], {}).setdefault(key, value)
        self._by_first = {
            first: sorted(options.items(), key=lambda item: -len(item[0]))
            for first, options in by_first.items()
        }

    def scan(self, tokens: Sequence[str]) -> list[tuple[int, int, T]]:
        """Non-overlapping (start, end, value) matches, left to right, longest at each position."""
        found: list[tuple[int, int, T]] = []
        index = 0
        while index < len(tokens):
            for key, value in self._by_first.get(tokens[index], ()):
                end = index + len(key)
                if tuple(tokens[index:end]) == key:
                    found.append((index, end, value))
                    index = end
                    break
            else:
                index += 1
        return found


_NEED_TABLE: _PhraseTable[str | None] = _PhraseTable(
    [
        *((phrase, need) for need, phrases in _NEED_TRIGGERS.items() for phrase in phrases),
        *((phrase, None) for phrase in _NEED_BLOCKERS),
    ]
)
# Value: (members to add, all phrases of the group) per group.
_SynonymGroup = tuple[tuple[str, ...], tuple[str, ...]]
_SYNONYM_TABLE: _PhraseTable[_SynonymGroup] = _PhraseTable(
    [
        *(
            (phrase, (members, members))
            for members, extra in _SYNONYM_GROUPS
            for phrase in (*members, *extra)
        ),
        *((phrase, (members, ())) for members, triggers in _ONE_WAY_SYNONYMS for phrase in triggers),
    ]
)


def _lexicon_words() -> frozenset[str]:
    phrases: list[str] = [
        *(phrase for phrases in _NEED_TRIGGERS.values() for phrase in phrases),
        *_NEED_BLOCKERS,
        *(term for terms in _NEED_TERMS.values() for term in terms),
        *(phrase for members, extra in _SYNONYM_GROUPS for phrase in (*members, *extra)),
        *(phrase for members, triggers in _ONE_WAY_SYNONYMS for phrase in (*members, *triggers)),
        *(phrase for phrases in _CATEGORY_TRIGGERS.values() for phrase in phrases),
        *_CATEGORY_BLOCKERS,
        *_UPPER_WORDS,
        *_LOWER_WORDS,
        *_LOWER_WORDS_NEEDING_CURRENCY,
        *_AROUND_WORDS,
        *_UPPER_AFTER,
        *_LOWER_AFTER,
        *_RANGE_OPENERS,
        *_RANGE_JOINERS,
    ]
    found = {word for phrase in phrases for word in _TOKEN_RE.findall(fold(phrase))}
    return frozenset(
        found | _UNITS | _NON_PRICE_BEFORE | _COMMON_WORDS | _NEGATORS | _NEGATION_GAP | _FILTER_WORDS
    )


_CURRENCY_WORD_SET = frozenset([*_CURRENCY_CODES, *_CURRENCY_WORDS, *_AMBIGUOUS_CURRENCY_WORDS])
# Words never corrected: filler, currency words and this module's own vocabulary.
_PROTECTED = _lexicon_words() | _STOP_WORDS | _CURRENCY_WORD_SET
_SUFFIXES = ("s", "es", "ed", "d", "ing", "ly", "er")


def _is_protected(word: str) -> bool:
    """Whether a word (or the stem of an inflected form: 'products', 'asked') is one never to correct."""
    if word in _PROTECTED:
        return True
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if stem in _PROTECTED or stem + "e" in _PROTECTED:
                return True
    return False


# Filler for the BM25 text: stop words and currency words.
_KEYWORD_FILLER = _STOP_WORDS | _CURRENCY_WORD_SET


# --------------------------------------------------------------------------------------------------------
# Vocabulary and typo correction
# --------------------------------------------------------------------------------------------------------


def _deletes(word: str, depth: int) -> set[str]:
    """The word and every string made from it by deleting up to depth characters."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {variant[:i] + variant[i + 1 :] for variant in frontier for i in range(len(variant))}
        found |= frontier
    return found


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a transposition counts 1); limit + 1 once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def _max_distance(word: str) -> int:
    return 2 if len(word) >= 8 else 1


class Vocabulary:
    """The catalog's words (with their frequencies) and categories: typo targets and category names.

    Lookups use a symmetric-delete index (every word with up to two letters deleted), so correcting a word
    costs a few dictionary lookups rather than a scan of the vocabulary.
    """

    def __init__(self, frequencies: Mapping[str, int], categories: Iterable[str]) -> None:
        self._frequencies = {word: count for word, count in frequencies.items() if count > 0}
        self.categories: tuple[str, ...] = tuple(
            dict.fromkeys(c for c in categories if c and len(c) <= _MAX_CATEGORY_LENGTH)
        )
        self._index: dict[str, list[str]] = {}
        for word in sorted(self._frequencies):
            if len(word) < 3 or not word.isalpha():
                continue
            for variant in _deletes(word, 2 if len(word) >= 6 else 1):
                self._index.setdefault(variant, []).append(word)
        self._cache: dict[str, str | None] = {}
        self._category_table = _category_table(self.categories)

    @classmethod
    def from_texts(cls, texts: Iterable[str], categories: Iterable[str]) -> Vocabulary:
        """A vocabulary of every word in the texts (folded) plus the words of the category slugs."""
        categories = list(categories)
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(words(text))
        for category in categories:
            counts.update(words(category))
        return cls(counts, categories)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._frequencies

    def __len__(self) -> int:
        return len(self._frequencies)

    def frequency(self, word: str) -> int:
        return self._frequencies.get(word, 0)

    def correct(self, word: str) -> str | None:
        """The vocabulary word a folded query word is a typo of, or None when it is to be left alone."""
        if word in self._cache:
            return self._cache[word]
        result = self._correct(word)
        if len(self._cache) < _CORRECTION_CACHE_SIZE:
            self._cache[word] = result
        return result

    def _correct(self, word: str) -> str | None:
        if len(word) < 4 or not word.isalpha() or word in self._frequencies or _is_protected(word):
            return None
        limit = _max_distance(word)
        candidates = {target for variant in _deletes(word, limit) for target in self._index.get(variant, ())}
        best: tuple[int, int, str] | None = None
        for target in candidates:
            distance = edit_distance(word, target, limit)
            if distance > limit:
                continue
            key = (distance, -self._frequencies[target], target)
            if best is None or key < best:
                best = key
        return None if best is None else best[2]

    @property
    def category_table(self) -> _PhraseTable[str | None]:
        return self._category_table


def _category_table(categories: Sequence[str]) -> _PhraseTable[str | None]:
    entries: list[tuple[str, str | None]] = [(phrase, None) for phrase in _CATEGORY_BLOCKERS]
    for category in categories:
        for phrase in _CATEGORY_TRIGGERS.get(category, ()):
            entries.append((phrase, category))
        slug_words = words(category)
        if slug_words:
            entries.append((" ".join(slug_words), category))
            last = slug_words[-1]
            if len(last) > 3 and last.endswith("s") and not last.endswith("ss"):
                entries.extend([(last, category), (last[:-1], category)])
    return _PhraseTable(entries)


# --------------------------------------------------------------------------------------------------------
# Filter extraction
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Filters:
    text: str  # the folded text, with consumed phrases blanked out
    spans: list[tuple[int, int]] = field(default_factory=list)
    floors: list[Decimal] = field(default_factory=list)
    ceilings: list[Decimal] = field(default_factory=list)
    price_currencies: list[tuple[int, str]] = field(default_factory=list)
    min_rating: float | None = None
    in_stock: bool = False

    def consume(self, start: int, end: int) -> None:
        self.spans.append((start, end))
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]


@dataclass(frozen=True)
class _Amount:
    value: Decimal
    currency: str | None
    end: int  # where the number (with its "k") ends, in the folded text
    ambiguous: bool = False  # the currency is a word like "pound", which may be a weight


def _currency_code(token: str | None) -> str | None:
    if not token:
        return None
    token = re.sub(r"\s+", "", token)
    if token in _CURRENCY_SYMBOLS:
        return _CURRENCY_SYMBOLS[token]
    if token in _CURRENCY_CODES:
        return token.upper()
    return _CURRENCY_WORDS.get(token) or _AMBIGUOUS_CURRENCY_WORDS.get(token)


def _parse_number(text: str) -> Decimal | None:
    """'79.99' -> 79.99, '79,99' -> 79.99, '1,299' -> 1299, '1.299,50' -> 1299.50."""
    separators = [i for i, char in enumerate(text) if char in ".,"]
    digits = text
    if separators:
        last = separators[-1]
        decimals = len(text) - last - 1
        integer_part = re.sub(r"[.,]", "", text[:last])
        digits = f"{integer_part}.{text[last + 1 :]}" if decimals <= 2 else re.sub(r"[.,]", "", text)
    try:
        return Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the regex only lets digits and separators through
        return None


def _amount(match: re.Match[str], tag: str) -> _Amount | None:
    value = _parse_number(match.group(f"num{tag}"))
    if value is None:
        return None
    if match.group(f"k{tag}"):
        value *= 1000
    post = match.group(f"post{tag}")
    currency = _currency_code(match.group(f"pre{tag}")) or _currency_code(post)
    end = match.end(f"k{tag}") if match.group(f"k{tag}") else match.end(f"num{tag}")
    ambiguous = currency is not None and not match.group(f"pre{tag}") and post in _AMBIGUOUS_CURRENCY_WORDS
    return _Amount(value, currency, end, ambiguous)


def _followed_by_unit(text: str, amount: _Amount) -> bool:
    """Whether a bare number is glued to letters or followed by a unit: '350g', '2 rackets', '50 %'."""
    if amount.currency is not None:
        return False
    rest = text[amount.end : amount.end + 24]
    if rest[:1].isalpha() or rest.lstrip()[:1] == "%":
        return True
    following = _NEXT_WORD_RE.match(rest)
    return following is not None and following.group(1) in _UNITS


def _preceded_by_non_price_word(text: str, start: int) -> bool:
    before = _LAST_WORD_RE.search(text[max(0, start - 40) : start])
    return before is not None and before.group(1) in _NON_PRICE_BEFORE


def _bare_ok(state: _Filters, match: re.Match[str], amounts: Sequence[_Amount]) -> bool:
    """Whether a price phrase's numbers may be prices: no unit after them, no telling word before it."""
    if any(_followed_by_unit(state.text, amount) for amount in amounts):
        return False
    has_currency = any(amount.currency for amount in amounts)
    return has_currency or not _preceded_by_non_price_word(state.text, match.start())


def _record_currency(
    state: _Filters, match: re.Match[str], *amounts: _Amount, extra: str | None = None
) -> None:
    for code in (*(amount.currency for amount in amounts), extra):
        if code:
            state.price_currencies.append((match.start(), code))
            return


def _scan_ranges(state: _Filters) -> None:
    for match in list(_RANGE_RE.finditer(state.text)):
        low, high = _amount(match, "a"), _amount(match, "b")
        if low is None or high is None or not _bare_ok(state, match, (low, high)):
            continue
        joiner = re.sub(r"[\s-]+", " ", match.group("joiner")).strip() or "-"
        has_currency = bool(low.currency or high.currency)
        opener = match.group("opener")
        if opener is None:
            if joiner in _JOINERS_NEEDING_OPENER:
                continue
            if joiner in _JOINERS_NEEDING_CURRENCY and not has_currency:
                continue
        elif opener in _OPENERS_NEEDING_CURRENCY and not has_currency:
            continue
        state.floors.append(low.value)
        state.ceilings.append(high.value)
        _record_currency(state, match, low, high)
        state.consume(match.start(), match.end())


def _scan_single(state: _Filters, pattern: re.Pattern[str], kind: str) -> None:
    for match in list(pattern.finditer(state.text)):
        amount = _amount(match, "a")
        if amount is None:
            continue
        extra = _currency_code(match.groupdict().get("postb"))
        if extra and amount.currency is None:
            amount = _Amount(amount.value, extra, amount.end)
        if kind == "lower" and match.groupdict().get("soft") and amount.currency is None:
            continue
        if kind in ("postfix", "bare") and amount.currency is None:
            continue
        if kind == "bare" and amount.ambiguous:  # "a 2 pound bag"
            continue
        if not _bare_ok(state, match, (amount,)):
            continue
        if kind == "postfix":
            kind_here = "upper" if match.group("upper") else "lower"
        elif kind == "bare":
            kind_here = "upper"
        else:
            kind_here = kind
        if kind_here == "around":
            state.floors.append(amount.value * (1 - _AROUND))
            state.ceilings.append(amount.value * (1 + _AROUND))
        elif kind_here == "upper":
            state.ceilings.append(amount.value)
        else:
            state.floors.append(amount.value)
        _record_currency(state, match, amount)
        state.consume(match.start(), match.end())


def _scan_ratings(state: _Filters) -> None:
    for pattern in _RATING_RES:
        for match in list(pattern.finditer(state.text)):
            if _UPPER_BEFORE_RE.search(state.text[max(0, match.start() - 20) : match.start()]):
                continue
            value = float(match.group("r").replace(",", "."))
            if value > 5:  # "5.5 stars": the pattern reads 0 to 5.99
                continue
            state.min_rating = value if state.min_rating is None else max(state.min_rating, value)
            state.consume(match.start(), match.end())


def _extract_filters(folded: str) -> _Filters:
    state = _Filters(folded)
    for match in list(_STOCK_RE.finditer(state.text)):
        state.in_stock = True
        state.consume(match.start(), match.end())
    _scan_ratings(state)
    _scan_ranges(state)
    _scan_single(state, _AROUND_RE, "around")
    _scan_single(state, _UPPER_RE, "upper")
    _scan_single(state, _LOWER_RE, "lower")
    _scan_single(state, _POSTFIX_RE, "postfix")
    _scan_single(state, _BARE_RE, "bare")
    return state


def _to_minor(value: Decimal, currency: str, rounding: str) -> int:
    scaled = value.scaleb(minor_unit_digits(currency))
    return int(scaled.to_integral_value(rounding=rounding))


def _price_bounds(state: _Filters, currency: str) -> tuple[int | None, int | None]:
    """The tightest floor and ceiling in minor units; both dropped when they contradict each other."""
    floor = _to_minor(max(state.floors), currency, ROUND_FLOOR) if state.floors else None
    ceiling = _to_minor(min(state.ceilings), currency, ROUND_CEILING) if state.ceilings else None
    if floor is not None and floor <= 0:
        floor = None
    if ceiling is not None and ceiling <= 0:
        ceiling = None
    if floor is not None and ceiling is not None and floor > ceiling:
        return None, None
    return floor, ceiling


# --------------------------------------------------------------------------------------------------------
# Understanding
# --------------------------------------------------------------------------------------------------------


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """fold(text), and for each folded character the index of the original character it came from."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    pieces: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = _CHAR_REPLACEMENTS.get(char) or fold(char)
        pieces.append(folded)
        offsets.extend([index] * len(folded))
    return "".join(pieces), offsets


def _negated(tokens: Sequence[str], start: int) -> bool:
    """Whether a negation comes right before tokens[start], across at most three gap words."""
    index = start - 1
    for _ in range(4):
        if index < 0:
            return False
        token = tokens[index]
        if token in _NEGATORS:
            return True
        if token not in _NEGATION_GAP:
            return False
        index -= 1
    return False


def _contains(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    size = len(phrase)
    return any(tuple(tokens[i : i + size]) == tuple(phrase) for i in range(len(tokens) - size + 1))


def _read_needs(tokens: Sequence[str]) -> tuple[list[str], set[int]]:
    needs: list[str] = []
    negated: set[int] = set()
    for start, end, need in _NEED_TABLE.scan(tokens):
        if need is None:
            continue
        if need not in _NEGATION_IMMUNE and _negated(tokens, start):
            negated.update(range(start, end))
            continue
        if need not in needs:
            needs.append(need)
    return needs, negated


def _read_category(tokens: Sequence[str], vocabulary: Vocabulary) -> tuple[str | None, set[int]]:
    mentions: list[tuple[str, bool]] = []  # (category, right after a number)
    negated: set[int] = set()
    for start, end, category in vocabulary.category_table.scan(tokens):
        if category is None:
            continue
        if _negated(tokens, start):
            negated.update(range(start, end))
            continue
        mentions.append((category, start > 0 and tokens[start - 1].isdigit()))
    named = {category for category, _ in mentions}
    if len(named) > 1:
        named = {category for category, after_count in mentions if not after_count}
    return (next(iter(named)) if len(named) == 1 else None), negated


def _expansions(tokens: Sequence[str], needs: Sequence[str]) -> list[str]:
    added: list[str] = []

    def add(term: str) -> None:
        if term not in added and not _contains(tokens, _TOKEN_RE.findall(fold(term))):
            added.append(term)

    for _, _, (members, _group) in _SYNONYM_TABLE.scan(tokens):
        for member in members:
            add(member)
    for need in needs:
        for term in _NEED_TERMS.get(need, ()):
            add(term)
    return added


def _keyword_text(tokens: Sequence[str], skip: set[int], expansions: Sequence[str]) -> str:
    chosen: list[str] = []
    seen: set[str] = set()
    candidates = [token for index, token in enumerate(tokens) if index not in skip]
    candidates += [word for term in expansions for word in _TOKEN_RE.findall(fold(term))]
    for token in candidates:
        if token in _KEYWORD_FILLER or token in seen:
            continue
        seen.add(token)
        chosen.append(token)
    return " ".join(chosen)


def _semantic_text(text: str, offsets: Sequence[int], edits: Sequence[tuple[int, int, str]]) -> str:
    """The original text with folded-text spans replaced (removed phrases, corrected words), tidied."""
    pieces: list[str] = []
    cursor = 0
    for start, end, replacement in sorted(edits):
        if start >= end:
            continue
        original_start, original_end = offsets[start], offsets[end - 1] + 1
        if original_start < cursor:
            continue
        pieces.append(text[cursor:original_start])
        pieces.append(replacement or " ")
        cursor = original_end
    pieces.append(text[cursor:])
    result = _SEMANTIC_SPACE_RE.sub(" ", _SEMANTIC_CONTROL_RE.sub(" ", "".join(pieces)))
    result = _SEMANTIC_EMPTY_BRACKETS_RE.sub(" ", result)
    result = _SEMANTIC_SPACE_BEFORE_PUNCT_RE.sub(r"\1", result)
    result = _SEMANTIC_REPEATED_PUNCT_RE.sub(r"\1", result)
    result = _SEMANTIC_SPACE_RE.sub(" ", result).strip(_SEMANTIC_EDGES)
    return result if any(char.isalnum() for char in result) else ""


def understand(
    query: str, vocabulary: Vocabulary | None = None, default_currency: str = "EUR"
) -> QueryUnderstanding:
    """Read a shopper's query: filters, needs, corrections and the texts for keyword and semantic search.

    Never raises on any string. Without a vocabulary nothing is corrected and no category is set (the
    category must be one the caller's catalog has). See the module docstring for every rule.
    """
    text = query[:MAX_QUERY_CHARS]
    folded, offsets = _fold_with_offsets(text)
    state = _extract_filters(folded)

    matches = list(_TOKEN_RE.finditer(state.text))
    tokens = [match.group() for match in matches]
    corrections: dict[str, str] = {}
    edits: list[tuple[int, int, str]] = [(start, end, "") for start, end in state.spans]
    if vocabulary is not None:
        for index, match in enumerate(matches):
            corrected = vocabulary.correct(tokens[index])
            if corrected is not None and corrected != tokens[index]:
                corrections[tokens[index]] = corrected
                tokens[index] = corrected
                edits.append((match.start(), match.end(), corrected))

    needs, negated = _read_needs(tokens)
    category: str | None = None
    if vocabulary is not None:
        category, negated_categories = _read_category(tokens, vocabulary)
        negated |= negated_categories
    expansions = _expansions(tokens, needs)

    currency = default_currency.strip().upper() or "EUR"
    if state.price_currencies:
        currency = min(state.price_currencies)[1]
    else:
        named = _CURRENCY_ANYWHERE_RE.search(folded)
        if named is not None:
            currency = _currency_code(named.group()) or currency
    min_price, max_price = _price_bounds(state, currency)

    return QueryUnderstanding(
        original=text,
        keyword_text=_keyword_text(tokens, negated, expansions),
        semantic_text=_semantic_text(text, offsets, edits),
        filters=SearchFilters(
            min_price=min_price,
            max_price=max_price,
            min_rating=state.min_rating,
            in_stock=True if state.in_stock else None,
            category=category,
        ),
        needs=needs,
        corrections=corrections,
        expansions=expansions,
        currency=currency,
    )
