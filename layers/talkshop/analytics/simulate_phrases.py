"""What simulated shoppers say (`talkshop simulate`): a small phrase bank over the demo catalog's
categories, in the advisor's four languages.

Written by hand rather than drawn from a public instruction set: those describe other shops' products
(Amazon listings), while these name the demo catalog's categories, budgets, levels and styles, and use
the phrasings the rules engine reads (ordinals, "I'll take…", objections), so every turn is a real step
of a shopping conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("en", "es", "fr", "pt")


@dataclass(frozen=True)
class Need:
    """One kind of thing a shopper may be after: a category with its name in each language, the budgets
    (whole euros) people tend to name for it and the qualifiers that describe what they want."""

    category: str
    weight: int  # how often shoppers come for it, relative to the other needs
    nouns: dict[str, str]
    budgets: tuple[int, ...]
    qualifiers: dict[str, tuple[str, ...]]


NEEDS = (
    Need(
        "padel-rackets",
        35,
        {
            "en": "a padel racket",
            "es": "una pala de pádel",
            "fr": "une raquette de padel",
            "pt": "uma raquete de padel",
        },
        (60, 80, 100, 150, 200),
        {
            "en": ("for a beginner", "for control", "for power", "for an intermediate player", "light"),
            "es": ("para principiante", "de control", "de potencia", "para nivel intermedio", "ligera"),
            "fr": ("pour débutant", "de contrôle", "de puissance", "pour joueur intermédiaire", "légère"),
            "pt": ("para iniciante", "de controle", "de potência", "para nível intermediário", "leve"),
        },
    ),
    Need(
        "coffee-gear",
        15,
        {
            "en": "a coffee grinder",
            "es": "un molinillo de café",
            "fr": "un moulin à café",
            "pt": "um moinho de café",
        },
        (80, 150, 300),
        {
            "en": ("for pour-over", "for espresso", "quiet"),
            "es": ("para filtro", "para espresso", "silencioso"),
            "fr": ("pour filtre", "pour espresso", "silencieux"),
            "pt": ("para filtro", "para espresso", "silencioso"),
        },
    ),
    Need(
        "padel-shoes",
        12,
        {
            "en": "padel shoes",
            "es": "unas zapatillas de pádel",
            "fr": "des chaussures de padel",
            "pt": "umas sapatilhas de padel",
        },
        (60, 90, 130),
        {
            "en": ("for clay courts", "comfortable", "light"),
            "es": ("para tierra batida", "cómodas", "ligeras"),
            "fr": ("pour terre battue", "confortables", "légères"),
            "pt": ("para terra batida", "confortáveis", "leves"),
        },
    ),
    Need(
        "padel-lessons",
        10,
        {"en": "padel lessons", "es": "clases de pádel", "fr": "des cours de padel", "pt": "aulas de padel"},
        (40, 80, 150),
        {
            "en": ("for a beginner", "to improve my volley", "for kids"),
            "es": ("para principiante", "para mejorar la volea", "para niños"),
            "fr": ("pour débutant", "pour améliorer ma volée", "pour enfants"),
            "pt": ("para iniciante", "para melhorar o voleio", "para crianças"),
        },
    ),
    Need(
        "padel-balls",
        10,
        {"en": "padel balls", "es": "pelotas de pádel", "fr": "des balles de padel", "pt": "bolas de padel"},
        (8, 12, 20),
        {
            "en": ("for tournaments", "that last long", "for altitude"),
            "es": ("para torneos", "que duren", "para altura"),
            "fr": ("pour tournois", "qui durent", "pour l'altitude"),
            "pt": ("para torneios", "que durem", "para altitude"),
        },
    ),
    Need(
        "padel-bags",
        10,
        {"en": "a padel bag", "es": "un paletero", "fr": "un sac de padel", "pt": "uma mochila de padel"},
        (30, 60, 90),
        {
            "en": ("for two rackets", "with a shoe compartment", "light"),
            "es": ("para dos palas", "con zapatillero", "ligero"),
            "fr": ("pour deux raquettes", "avec compartiment chaussures", "léger"),
            "pt": ("para duas raquetes", "com compartimento para sapatilhas", "leve"),
        },
    ),
    Need(
        "grips-overgrips",
        8,
        {"en": "overgrips", "es": "overgrips", "fr": "des surgrips", "pt": "overgrips"},
        (5, 10, 15),
        {
            "en": ("that absorb sweat", "tacky", "thin"),
            "es": ("que absorban el sudor", "con tacto", "finos"),
            "fr": ("qui absorbent la sueur", "collants", "fins"),
            "pt": ("que absorvam o suor", "aderentes", "finos"),
        },
    ),
)

# The first message of a chat: {noun} (with its article where the language wants one), {qualifier} and
# {budget} (a whole number of euros).
OPENINGS = {
    "en": (
        "I'm looking for {noun} {qualifier} under €{budget}",
        "Find me {noun} {qualifier}, budget €{budget}",
        "Any recommendation for {noun} under €{budget}?",
        "I need {noun} {qualifier}",
    ),
    "es": (
        "Busco {noun} {qualifier} por menos de {budget} €",
        "Quiero {noun} {qualifier}, presupuesto {budget} euros",
        "Recomiéndame {noun} por menos de {budget} €",
        "Necesito {noun} {qualifier}",
    ),
    "fr": (
        "Je cherche {noun} {qualifier} à moins de {budget} €",
        "Trouve-moi {noun} {qualifier}, budget {budget} euros",
        "Conseille-moi {noun} à moins de {budget} €",
        "Il me faut {noun} {qualifier}",
    ),
    "pt": (
        "Procuro {noun} {qualifier} até {budget} €",
        "Quero {noun} {qualifier}, orçamento {budget} euros",
        "Recomenda-me {noun} até {budget} €",
        "Preciso de {noun} {qualifier}",
    ),
}

GREETINGS = {"en": ("hi", "hello there"), "es": ("hola",), "fr": ("bonjour",), "pt": ("olá",)}

# What a shopper says after the first recommendations, by kind of turn.
FOLLOW_UPS: dict[str, dict[str, tuple[str, ...]]] = {
    "refine": {
        "en": ("cheaper", "something lighter", "show me others"),
        "es": ("algo más barato", "muéstrame otras"),
        "fr": ("moins cher", "montre-moi d'autres"),
        "pt": ("mais barato", "mostra-me outras"),
    },
    "compare": {
        "en": ("compare the first two", "what's the difference between the first and the second?"),
        "es": ("compara las dos primeras",),
        "fr": ("compare les deux premières",),
        "pt": ("compara as duas primeiras",),
    },
    "details": {
        "en": ("tell me more about the first one", "what's the weight of the second one?"),
        "es": ("cuéntame más de la primera",),
        "fr": ("dis-m'en plus sur la première",),
        "pt": ("fala-me mais da primeira",),
    },
    "objection": {
        "en": ("is it worth it?", "what about returns?", "will it last?", "that's too expensive"),
        "es": ("¿vale la pena?", "es demasiado caro"),
        "fr": ("est-ce que ça vaut le coup ?", "c'est trop cher"),
        "pt": ("vale a pena?", "é muito caro"),
    },
    "discount": {
        "en": ("do you have a discount code?",),
        "es": ("¿tienes algún código de descuento?",),
        "fr": ("avez-vous un code promo ?",),
        "pt": ("tem algum código de desconto?",),
    },
    # Questions the shop cannot answer from its catalog: they show up as unanswered questions.
    "off_topic": {
        "en": ("what's the weather tomorrow?", "where is my order?"),
        "es": ("¿qué tiempo hará mañana?", "¿dónde está mi pedido?"),
        "fr": ("quel temps fera-t-il demain ?", "où est ma commande ?"),
        "pt": ("como vai estar o tempo amanhã?", "onde está a minha encomenda?"),
    },
}
# How often each kind of follow-up is chosen, relative to the others.
FOLLOW_UP_WEIGHTS = {
    "refine": 30,
    "compare": 20,
    "details": 25,
    "objection": 15,
    "discount": 5,
    "off_topic": 5,
}

BUYING = {
    "en": ("I'll take the first one", "add the first one to my cart"),
    "es": ("me llevo la primera",),
    "fr": ("je prends la première",),
    "pt": ("vou levar a primeira",),
}

# What a storefront shopper types into the shop's search box (the storefront is in English).
STORE_QUERIES = (
    "{noun} {qualifier}",
    "{noun} under €{budget}",
    "{noun}",
)


def bare(noun: str) -> str:
    """The English noun without its article, as typed into a search box ("a padel bag" → "padel bag")."""
    return noun.removeprefix("a ")


# Typed by a few: words the catalog has nothing for.
STORE_MISSES = ("snowboard wax", "tennis strings 1.25", "golf glove left")
