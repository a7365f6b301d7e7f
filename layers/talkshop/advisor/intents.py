"""Deterministic intent classifier and language detector of the advisor (no LLM involved).

``classify("what's the weight of the second one?")`` gives ``PRODUCT_DETAILS`` with ``ordinal_refs=[2]``;
``classify("cheaper", has_recommendations=True)`` gives ``REFINE``. Rules read the folded words of the
message (lowercase, accents stripped, see :func:`talkshop.text.words`) as phrases, English first, with
Spanish, French and Portuguese for the core flows. The first rule that fires decides, in this order:

1. Empty text -> ``VAGUE``; only greetings and pleasantries ("hi there", "hola", "thanks") -> ``GREETING``.
2. Insults, sexual terms, abuse (a short word list) -> ``INAPPROPRIATE``.
3. Prompt-injection-looking text ("ignore your instructions", "set the price to 0", "other users' chats")
   sets ``suspicious`` and is classified by what it asks, never as a shopping action: ``SUPPORT`` when it
   is about accounts, orders, chats or other people's data, else ``OFF_TOPIC``.
4. ``SUPPORT``: refunds, a human, something broken or damaged, cancelling, returning a bought item.
5. ``ORDER_STATUS``: "where is my order", "track", an order id (``ORD-123``), "mi pedido", "ma commande".
6. ``OFF_TOPIC``: weather, politics, homework, poems, jokes... (checked before shopping rules, so "a poem
   about rackets" stays off topic).
7. ``DISCOUNT``: discount, coupon, promo code, voucher, descuento, réduction, desconto.
8. ``COMPARE``: "compare", "vs", "difference between", or "which is better / or" naming two items; with
   results on screen, "which one has the best rating?" (which + a superlative, no item or category named).
9. ``BUY``: "add to cart", "add the first one to my cart", "checkout", "I'll take it" always; "buy",
   "comprar", "acheter" when they point at an item (pronoun, ordinal, product name) or name nothing to
   search for.
10. ``OBJECTION`` with a topic: phrases that are objections anywhere ("too expensive", "worth it", "what
    about returns", "will it last") and topic words that also describe needs (comfort, left-handed,
    tournaments, durability) only when they point at an item ("is *it* good for left-handed players?"),
    or, with results on screen, are a short question or open with a subjectless verb ("¿Es duradera?").
11. ``PRODUCT_DETAILS``: "tell me more", "specs", "details", or an attribute question (weight, size,
    colour...) about an item; an item named with a need ("is the second one good for beginners?").
12. ``REFINE`` (only with ``has_recommendations``): comparatives and "others" ("cheaper", "something
    lighter", "show me others", "in blue"), or needs and filters without a new category.
13. ``DISCOVER``: a category, a need, a price, a rating, stock, a colour, a size or weight in grams, or a
    gift for someone or an occasion ("a gift for my brother"; "I need a gift" alone is ``VAGUE``).
14. ``VAGUE``: a request that names none of those ("something good", "help me choose").
15. Otherwise: an item mentioned -> ``PRODUCT_DETAILS`` (low confidence), else ``OFF_TOPIC`` (low).

``confidence`` is the fixed confidence of the rule that fired. Everything is compiled at import; a message
takes well under a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from talkshop.search.understanding import QueryUnderstanding, understand
from talkshop.text import fold, words

__all__ = ["Classification", "Intent", "Language", "ObjectionTopic", "classify", "detect_language"]

# Only this many characters of a message are read.
MAX_MESSAGE_CHARS = 2000
_MAX_NAME_TOKENS = 8


class Intent(StrEnum):
    GREETING = "greeting"
    DISCOVER = "discover"
    REFINE = "refine"
    PRODUCT_DETAILS = "product_details"
    COMPARE = "compare"
    OBJECTION = "objection"
    DISCOUNT = "discount"
    BUY = "buy"
    ORDER_STATUS = "order_status"
    SUPPORT = "support"
    OFF_TOPIC = "off_topic"
    INAPPROPRIATE = "inappropriate"
    VAGUE = "vague"


class ObjectionTopic(StrEnum):
    DURABILITY = "durability"
    TOURNAMENT = "tournament"
    UPGRADE_PATH = "upgrade_path"
    WORTH_IT = "worth_it"
    LEFT_HANDED = "left_handed"
    PRICE = "price"
    COMFORT = "comfort"
    SHIPPING_RETURNS = "shipping_returns"
    OTHER = "other"


class Language(StrEnum):
    EN = "en"
    ES = "es"
    FR = "fr"
    PT = "pt"


class Classification(BaseModel):
    """What a shopper's message asks, read by rules."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent
    confidence: float = Field(ge=0, le=1, description="Fixed confidence of the rule that fired")
    objection_topic: ObjectionTopic | None = None
    product_refs: list[str] = Field(
        default_factory=list, description="Keys of product_names or catalog_names mentioned"
    )
    ordinal_refs: list[int] = Field(default_factory=list, description="1-based positions, in mention order")
    language: Language = Language.EN
    suspicious: bool = Field(default=False, description="Looks like prompt injection or data fishing")


# --------------------------------------------------------------------------------------------------------
# Phrase tables: written as natural text, tokenised like messages ("i'll" -> "i ll", "l'autre" -> "l autre")
# --------------------------------------------------------------------------------------------------------


class _Phrases:
    """A set of phrases matched as whole-word token sequences in a message's folded words."""

    def __init__(self, text: str) -> None:
        phrases = {" ".join(words(part)) for part in re.split(r"[,\n]", text)}
        phrases.discard("")
        body = "|".join(re.escape(p) for p in sorted(phrases, key=lambda p: (-len(p), p)))
        self._pattern = re.compile(rf"(?<!\S)(?:{body})(?!\S)")

    def search(self, joined: str) -> bool:
        return self._pattern.search(joined) is not None


def _word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


_GREETING_WORDS = _word_set("""
    hi hello hey heya hiya howdy yo greetings morning afternoon evening good day there all everyone guys
    folks team friend how are you is it going doing today doing hope well thanks thank much cheers
    hola buenas buenos dias tardes noches que tal gracias saludos
    bonjour bonsoir salut coucou ca va merci beaucoup
    ola oi bom boa dia tarde noite tudo bem obrigado obrigada bye goodbye see later adios hasta luego
    au revoir tchau ate logo""")
_HOW_ARE_YOU = _Phrases("how are you, how s it going, que tal, ca va, tudo bem")
_GREETING_MARKERS = _word_set("""
    hi hello hey heya hiya howdy yo greetings morning afternoon evening thanks thank cheers hola buenas
    buenos gracias saludos bonjour bonsoir salut coucou merci ola oi bom boa obrigado obrigada bye goodbye
    adios revoir tchau""")

_INAPPROPRIATE = _Phrases("""
    idiot, idiots, stupid bot, you are stupid, you re stupid, so stupid, moron, morons, dumb bot, you re dumb,
    imbecile, loser, shut up, screw you, piss off, go to hell, you suck, i hate you, kill yourself,
    useless piece, sex, sexy, sexual, nude, nudes, naked, porn, porno, pornography, horny, erotic, nsfw,
    idiota, estupido, estupida, imbecil, callate, tonto, sexo, desnuda, desnudo,
    stupide, connard, ta gueule, ferme la, cala a boca, burro, pelada, pelado""")

_SUSPICIOUS = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b(?:\s+\w+){0,4}?\s+"
    r"(?:instructions?|rules?|prompts?|guidelines?|directives?|polic(?:y|ies))\b"
    r"|\bsystem\s+prompt\b|\byour\s+(?:instructions|prompt|rules)\b|\byou\s+are\s+now\b"
    r"|\bpretend\s+(?:to\s+be|you\s+are)\b|\bact\s+as\s+(?:an?\s+)?(?:admin|developer|system|root)\b"
    r"|\bjailbreak|\bdeveloper\s+mode\b|\bdan\s+mode\b|\badmin\s+(?:mode|access|panel)\b|\bsudo\b"
    r"|\b(?:set|change|make|update)\s+(?:the\s+|its\s+|all\s+)?(?:price|prices|cost|total)\s+(?:to|=)"
    r"|\b(?:price|prices|total)\s+(?:to|=)\s*0\b|\bmake\s+(?:it|everything|them)\s+free\b"
    r"|\bother\s+(?:users?|customers?|people|shoppers?)\W*s?\s+(?:chats?|orders?|data|emails?|addresses|"
    r"messages?|conversations?|accounts?|details|cards?)"
    r"|\b(?:all|every)\s+(?:users?|customers?)\W*s?\s+(?:chats?|orders?|data|emails?|conversations?)"
    r"|\bsomeone\s+else\W*s\s+(?:chats?|orders?|data|account)"
    r"|\b(?:api|secret|access)\s+keys?\b|\bcredentials\b|\bdatabase\b|\bdrop\s+table\b|<\s*script"
)
_SUSPICIOUS_SUPPORT = _Phrases("""
    chat, chats, order, orders, data, email, emails, address, addresses, account, accounts, conversation,
    conversations, messages, users, customers, database, credentials, card, cards""")

_SUPPORT = _Phrases("""
    refund, refunds, refunded, money back, talk to a human, speak to a human, a human, real person,
    talk to someone, speak to someone, talk to a person, speak to a person, human agent, agent, operator,
    customer service, customer support, support team, contact support, complaint, complain,
    broke, broken, cracked, damaged, defective, faulty, doesn t work, does not work, not working,
    stopped working, wrong item, wrong size arrived, never arrived, missing item, cancel, cancel my order,
    want to return, like to return, need to return, return my, returning my, send it back, exchange my,
    warranty claim, charged twice, double charged, payment failed, my account, my password, log in,
    login, sign in, invoice, receipt,
    reembolso, devolver, quiero devolver, hablar con una persona, hablar con alguien, humano, agente,
    roto, rota, se rompio, atencion al cliente, no funciona, cancelar, queja,
    remboursement, rembourser, humain, une personne, parler a quelqu un, conseiller, cassee, casse,
    service client, ne marche pas, ne fonctionne pas, annuler, retourner, reclamation,
    atendente, quebrou, quebrada, quebrado, nao funciona, atendimento, falar com alguem, reclamacao""")

_ORDER_STATUS = _Phrases("""
    where is my order, my order, order status, status of my order, track, tracking, track my order,
    track order, my package, my parcel, my delivery, has it shipped, has my order shipped, shipped yet,
    when will my order arrive, order number,
    mi pedido, estado del pedido, estado de mi pedido, seguimiento, rastrear, donde esta mi pedido,
    ma commande, mon colis, suivi, suivre ma commande, statut de ma commande, ou est ma commande,
    meu pedido, minha encomenda, a encomenda, rastreio, estado da encomenda, onde esta a minha encomenda""")
_ORDER_ID = re.compile(r"\bord[\s_-]?\d+\b")

_OFF_TOPIC = _Phrases("""
    weather, forecast, will it rain, raining, temperature outside, politics, political, politician,
    election, elections, vote for, president, prime minister, government, parliament, homework, essay,
    poem, poems, poetry, haiku, lyrics, tell me a joke, joke, jokes, capital of, math, maths, equation,
    calculus, solve for, translate, bitcoin, crypto, cryptocurrency, stock market, who won, horoscope,
    meaning of life, python code, javascript, write code, programming, recipe for dinner, movie, movies,
    clima, tiempo hace, politica, elecciones, presidente, deberes, poema, chiste,
    meteo, politique, devoirs, poeme, blague,
    previsao do tempo, eleicoes, licao de casa, piada""")

_DISCOUNT = _Phrases("""
    discount, discounts, discounted, coupon, coupons, coupon code, promo, promo code, promotion, promotions,
    voucher, vouchers, discount code, any deals, special offers, on sale, any sales, percent off, money off,
    descuento, descuentos, cupon, codigo promocional, promocion, rebaja, rebajas, oferta, ofertas,
    reduction, reductions, remise, code promo, bon de reduction, soldes,
    desconto, descontos, cupom, codigo de desconto, promocao, promocoes""")

_COMPARE = _Phrases("""
    compare, comparing, comparison, vs, versus, difference between, differences between, the difference,
    what s the difference, whats the difference, side by side, compared to, compared with,
    comparar, compara, comparacion, diferencia, diferencias, diferencia entre,
    comparer, compare les, comparaison, difference entre, les differences,
    comparacao, diferenca, diferencas, diferenca entre""")
_COMPARE_WEAK = _word_set("""
    better best which or more less mejor cual o meilleur meilleure lequel laquelle ou melhor qual""")
# "Which one has the best rating?" about the cards on screen: a comparison of them.
_WHICH = _word_set("which cual cuales lequel laquelle lesquels lesquelles qual quais")
_SUPERLATIVE = _word_set("""
    best better most highest lowest cheapest lightest heaviest top mejor mejores meilleur meilleure
    meilleurs melhor melhores""")

_BUY = _Phrases("""
    add to cart, add it to cart, add it to my cart, add to my cart, add to basket, add it to my basket,
    put it in my cart, checkout, go to checkout, proceed to checkout, check out now, i ll take it,
    i will take it, i ll take, i will take, i ll take the, take it, i ll go with, i will go with,
    go with the, i want it, i want this one, i want that one, let s do it,
    me lo llevo, me la llevo, me llevo, nos llevamos, lo compro, la compro, lo quiero, la quiero,
    anadir al carrito, al carrito, pagar,
    je le prends, je la prends, je prends, ajouter au panier, au panier, je l achete, je la veux,
    je le veux,
    vou levar, fico com, adicionar ao carrinho, carrinho, eu quero esse, eu quero essa, finalizar compra""")
# "add the first one to my cart", "put the Feather in the basket", "añade la segunda al carrito".
_ADD_TO_CART = re.compile(
    r"\b(?:add|put|place|anade|agrega|mete|ajoute|ajouter|mets|adiciona|adicionar|coloca|poe)\b"
    r"(?:\s+\S+){0,6}?\s+(?:to|in|into|on|al|en|a|au|dans|ao|no|na)\s+(?:(?:my|the|mi|el|le|mon|o|meu)\s+)?"
    r"(?:cart|basket|carrito|cesta|panier|carrinho)\b"
)
_BUY_WEAK = _Phrases("""
    buy, buying, purchase, order it, order this, order that, order the, place the order, place an order,
    get it, get this one, get the, comprar, comprarla, comprarlo, compro, hacer el pedido,
    acheter, commander, achete, comprar, encomendar, quero comprar""")
# Choosing phrases: a purchase only when they point at an item ("I'd like the second one").
_CHOOSE = _Phrases("""
    i d like, i would like, i want the, i ll go for, i will go for, give me the, let s go with, i choose,
    i pick, quiero la, quiero el, je veux la, je veux le, quero a, quero o""")

# Words that point at an item already shown ("is *it* comfortable?"). Not "that", which is mostly relative
# ("a racket that lasts"), nor articles that double as pronouns ("la", "lo").
_PRONOUNS = _word_set("""
    it its this these those them they este esa ese estas estos ca cela celle celui ceci isso esse essa isto
    ele ela""")

# Verbs that open a question about an item without naming it in Spanish, Portuguese and French.
_SUBJECTLESS_VERBS = _word_set("es esta son sera sirve vale aguanta e fica serve dura est sera tient")

# Objections: phrases that object wherever they are.
_OBJECTION_STRONG: tuple[tuple[ObjectionTopic, _Phrases], ...] = (
    (
        ObjectionTopic.PRICE,
        _Phrases("""
            too expensive, so expensive, very expensive, quite expensive, really expensive, too pricey,
            so pricey, a bit pricey, too much money, costs too much, too costly, can t afford, cannot afford,
            out of my budget, over my budget, above my budget, beyond my budget, over budget,
            demasiado caro, demasiado cara, muy caro, muy cara, es caro, es cara,
            trop cher, trop chere, c est cher, muito caro, muito cara, caro demais, cara demais"""),
    ),
    (
        ObjectionTopic.WORTH_IT,
        _Phrases("""
            worth, worth it, worth the money, worth the price, good value for money, justify the price,
            good deal, a good price, fair price,
            vale la pena, merece la pena, vaut le coup, vaut la peine, vaut le prix, vale a pena"""),
    ),
    (
        ObjectionTopic.DURABILITY,
        _Phrases("""
            will it last, does it last, how long will it last, how long does it last, how long do they last,
            break easily, breaks easily, fall apart, falls apart, wear out, wears out, last long,
            dura mucho, durara, cuanto dura, va durer, dure longtemps, vai durar, dura muito, quanto dura"""),
    ),
    (
        ObjectionTopic.UPGRADE_PATH,
        _Phrases("""
            upgrade to later, upgrade later, upgrade path, upgrade to next, upgrade when, upgrade after,
            upgrade in the future, next racket, outgrow, outgrow it, grow out of, when i improve,
            when i get better, as i improve, as i get better, after this one, later on upgrade,
            what comes next, mejorar de pala, siguiente pala, quand je progresse, proxima raquete"""),
    ),
    (
        ObjectionTopic.TOURNAMENT,
        _Phrases("""
            tournament legal, legal for tournaments, allowed in tournaments, approved for competition,
            fip approved, in tournaments, in a tournament, for tournaments, en torneos, en tournoi,
            em torneios"""),
    ),
    (
        ObjectionTopic.SHIPPING_RETURNS,
        _Phrases("""
            shipping, ship, ships, delivery, deliver, delivered, returns, return policy, can i return,
            could i return, free returns, return it, exchange policy, how long to arrive, when will it arrive,
            envio, envios, gastos de envio, entrega, devoluciones, devolucion, politica de devolucion,
            livraison, livrer, retour, retours, frais de port, frete, devolucao, devolucoes, trocas"""),
    ),
    (
        ObjectionTopic.OTHER,
        _Phrases("""
            pay with, payment methods, payment options, paypal, credit card, installments, klarna,
            pagar con tarjeta, payer par carte, pagar com cartao"""),
    ),
)
# Objections that name a need too: only when the message points at an item ("is it comfortable?").
_OBJECTION_REFERENTIAL: tuple[tuple[ObjectionTopic, _Phrases], ...] = (
    (
        ObjectionTopic.PRICE,
        _Phrases("expensive, pricey, costly, overpriced, caro, cara, cher, chere"),
    ),
    (
        ObjectionTopic.LEFT_HANDED,
        _Phrases("""
            left handed, left hand, lefthanded, lefty, leftie, lefties, southpaw, zurdo, zurda, zurdos,
            gaucher, gauchere, gauchers, canhoto, canhota, canhotos"""),
    ),
    (
        ObjectionTopic.TOURNAMENT,
        _Phrases("""
            tournament, tournaments, competition, competitions, official, approved, regulation, torneo,
            torneos, competicion, tournoi, tournois, torneio, torneios"""),
    ),
    (
        ObjectionTopic.DURABILITY,
        _Phrases("""
            durable, durability, last, lasts, fragile, sturdy, robust, break, breaks, resistant, wear,
            duradera, duradero, resistente, solide, duravel"""),
    ),
    (
        ObjectionTopic.UPGRADE_PATH,
        _Phrases("upgrade, upgrades, upgrading, progress, evolve, mejorar, progresser, evoluir"),
    ),
    (
        ObjectionTopic.COMFORT,
        _Phrases("""
            comfortable, comfort, comfy, hurt, hurts, pain, painful, elbow, blisters, vibration, vibrations,
            uncomfortable, comodo, comoda, confortable, confortavel"""),
    ),
    (
        ObjectionTopic.OTHER,
        _Phrases("""
            not sure, not convinced, i doubt, doubts, hesitant, hesitating, i don t know about, i m worried,
            worried, concern, concerned, warranty, no estoy seguro, no estoy convencido, pas sur,
            pas convaincu, nao tenho certeza, nao sei"""),
    ),
)

_DETAILS_STRONG = _Phrases("""
    tell me more, more about, more info, more information, more details, details, detail, specs, spec,
    specifications, specification, features, describe, description, what is it made of, made of,
    tell me about, info on, information about, how heavy, how much does it weigh, how much is,
    how much does, price of, reviews of, in stock, sold out, available, availability,
    mas informacion, mas sobre, detalles, caracteristicas, cuanto pesa, cuanto cuesta, cuentame mas,
    plus d infos, plus d informations, en savoir plus, details sur, caracteristiques, combien pese,
    combien coute, mais informacoes, mais sobre, detalhes, quanto pesa, quanto custa, fale mais,
    hablame de, hableme de, cuentame de, cuentame sobre, dime mas, parle moi de, parle moi du,
    parlez moi de, parlez moi du, fale me, fala me, me fale, me fala, conte me, me conte""")
_DETAIL_ATTRIBUTES = _word_set("""
    weight weigh weighs grams balance shape core face material materials dimensions size sizes length
    thickness colour colours color colors price cost stock rating reviews warranty sole grip
    peso forma nucleo material talla tamano precio color colores
    poids forme noyau taille prix couleur couleurs
    peso formato tamanho preco cor cores""")

_REFINE = _Phrases("""
    cheaper, less expensive, lower price, more affordable, lighter, heavier, bigger, smaller, softer,
    harder, something else, anything else, other options, other ones, others, another one, another,
    show me more, more options, different, alternatives, alternative, instead, similar, more like,
    something like, less, more, without, not so, a bit more, a bit less, too heavy, too light, too big,
    too small, too soft, too hard, too stiff, too powerful, too slow, too long, too short, too wide,
    mas barato, mas barata, mas ligera, mas ligero, otra, otras, otro, otros, algo diferente,
    moins cher, moins chere, plus leger, plus legere, autre, autres, quelque chose d autre,
    mais barato, mais barata, mais leve, outra, outras, outro, outros""")
_COLOURS = _word_set("""
    blue red black white green pink yellow grey gray orange purple brown silver gold navy beige
    azul rojo roja negro negra blanco blanca verde rosa amarillo gris naranja morado
    bleu bleue rouge noir noire blanc blanche vert verte jaune violet
    vermelho vermelha preto preta branco branca amarelo cinza laranja roxo""")
_SIZE = re.compile(
    r"\b(?:size|talla|taille|tamanho|pointure)\s*\d+|\b(?:eu|us|uk)\s*\d{1,2}\b"
    r"|\b\d{3}\s*(?:g|gr|grs|grams?|grammes?|gramos?|gramas?)\b"
)

_CATEGORY_WORDS = _word_set("""
    racket rackets racquet racquets paddle paddles pala palas raqueta raquetas raquette raquettes raquete
    raquetes ball balls pelota pelotas balle balles bola bolas grip grips overgrip overgrips surgrip
    surgrips shoe shoes trainers sneakers zapatilla zapatillas chaussure chaussures sapatilha sapatilhas
    tenis bag bags backpack backpacks paletero paleteros mochila bolsa sac sacs raquetero
    lesson lessons class classes coaching coach clinic clinics camp camps course courses clase clases
    cours aula aulas coffee cafe grinder grinders molinillo moulin moedor espresso beans kettle kettles
    dripper drippers tamper tampers filters filter mug mugs wristband wristbands accessories gear
    equipment""")
_DISCOVER_EXTRA = _Phrases("pour over, french press, moka pot")
# A gift is something to search for once it says who or what it is for ("a gift for my wife"); "I need a
# gift" alone names nothing to search and gets a question.
_GIFT = re.compile(
    r"\b(?:gift|gifts|present|regalo|cadeau|presente)\b.*\b(?:for|para|pour|pra)\b"
    r"|\b(?:birthday|christmas|anniversary|cumpleanos|navidad|anniversaire|noel|aniversario|natal)\b"
)

_VAGUE = _Phrases("""
    something, anything, something good, i want something, help me choose, help me pick, help me decide,
    recommend, recommendation, recommendations, suggest, suggestion, suggestions, what should i buy,
    what should i get, what do you have, what do you recommend, options, show me, i need, i want,
    looking for, i m looking, any ideas, ideas, not sure what, dunno, you choose, surprise me, gift, gifts,
    present, regalo, cadeau, presente,
    algo, algo bueno, quiero algo, busco, recomienda, recomiendame, recomendacion, sugerencia, ayudame,
    quelque chose, je cherche, cherche, conseil, conseille, conseillez, recommandation, aidez moi,
    procuro, quero algo, algo bom, recomenda, recomendacao, sugestao, me ajuda""")
_ACKS = _word_set("ok okay yes yeah yep sure no nope maybe hmm si oui non sim nao claro vale d accord")

_ORDINAL_WORDS: dict[str, int] = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6,
    "primero": 1, "primera": 1, "primer": 1, "segundo": 2, "segunda": 2, "tercero": 3, "tercera": 3,
    "tercer": 3, "cuarto": 4, "cuarta": 4, "quinto": 5, "quinta": 5,
    "premier": 1, "premiere": 1, "deuxieme": 2, "seconde": 2, "troisieme": 3, "quatrieme": 4,
    "cinquieme": 5,
    "primeiro": 1, "primeira": 1, "terceiro": 3, "terceira": 3, "quarto": 4, "quarta": 4,
}  # fmt: skip
_ENGLISH_ORDINALS = frozenset({"first", "second", "third", "fourth", "fifth", "sixth"})
# A word ordinal counts after one of these or before _ORDINAL_AFTER: "the first", "first one", "or second".
_ORDINAL_BEFORE = _word_set("the el la lo le les o a or and vs versus y et e ou between entre da do del")
_ORDINAL_AFTER = _word_set("""
    one ones option choice pick recommendation suggestion uno una opcion um uma opcao""")
_ORDINAL_NUMBER = re.compile(
    r"#\s*(\d{1,2})\b|(?:\b(?:option|number|item|choice|opcion|numero|opcao|nr)|\bno\.|\bn°|\bno(?=\d))"
    r"\s*#?\s*(\d{1,2})\b"
)

# "The first two", "los dos primeros", "les deux premières", "as duas primeiras": the first n cards.
_FIRST_N = re.compile(
    r"\b(?:first|top)\s+(two|three|four|2|3|4)\b"
    r"|\b(two|three|four|dos|tres|cuatro|deux|trois|quatre|dois|duas|quatro|2|3|4)\s+"
    r"(?:first|primer[oa]s|premier(?:e)?s|primeir[oa]s)\b"
)
_COUNTS = {
    "two": 2, "dos": 2, "deux": 2, "dois": 2, "duas": 2, "2": 2,
    "three": 3, "tres": 3, "trois": 3, "3": 3,
    "four": 4, "cuatro": 4, "quatre": 4, "quatro": 4, "4": 4,
}  # fmt: skip

# Name words that say nothing about which product is meant.
_NAME_FILLER = _word_set("padel the a an of for and with by de la le el du des da do das dos e y et")
# Tokens that never identify one product alone ("padel", "racket", "pro", "2025"...).
_GENERIC_NAME_WORDS = (
    _CATEGORY_WORDS
    | _COLOURS
    | _word_set("""
    padel pro plus max lite light ultra elite team tour junior kids women men woman man lady ladies classic
    edition new series model version control power speed spin soft hard carbon hybrid air pack set kit
    the a an of for and with by de la le el du des da do das dos e y et""")
)


# --------------------------------------------------------------------------------------------------------
# Language detection
# --------------------------------------------------------------------------------------------------------

_LANGUAGE_WORDS: dict[Language, frozenset[str]] = {
    Language.EN: _word_set("""
        the an is are i you my me what which how where for with and of to it this that do does can need
        want looking please hi hello hey good morning thanks thank any some something best under tell more
        about show will would should have your much there buy order compare cheaper one first second ll s
        m t don im racket rackets shoes bag balls lesson lessons coffee in on at be or if so not but get just
        like than from by we was all also really player players light lighter price cheap great other
        others could who when why weight play playing beginner beginners write help choose pick give make
        know see go let us our yes thanks"""),
    Language.ES: _word_set("""
        el los las del al y es son con una unos unas hola busco quiero necesito tienes tiene hay mi mis
        donde cual cuanto como este esto eso pala palas raqueta raquetas descuento mejor gracias buenos
        buenas dias tardes noches muy algo alguna yo usted puedo podria barato barata zapatillas pelotas
        principiante primera segunda comparar pero tambien ahora pedido lo su tengo es"""),
    Language.FR: _word_set("""
        le les des du je j est c ce cette pour avec et un une bonjour bonsoir salut cherche veux voudrais
        mon ma mes quel quelle quels commande acheter merci pas ne vous avez qu l d il elle sont sur dans
        moins plus cher raquette raquettes livraison reduction comparer sais peux suis au aux ou debutant
        balles chaussures premiere deuxieme"""),
    Language.PT: _word_set("""
        o os as do da dos das na nos nas e com um uma ola oi procuro quero preciso meu minha encomenda
        desconto obrigado obrigada voce nao tem qual onde bom boa dia tarde noite muito mais ate isso esse
        essa raquete raquetes comprar tudo bem pra sao estou eu ele ela posso barato iniciante primeira
        segunda pedido para"""),
}
# Shared words count for each language listing them, half as much as a word only one language lists.
_WORD_WEIGHTS: dict[str, dict[Language, float]] = {}
for _language, _words in _LANGUAGE_WORDS.items():
    for _word in _words:
        _WORD_WEIGHTS.setdefault(_word, {})[_language] = 1.0
for _weights in _WORD_WEIGHTS.values():
    if len(_weights) == 1:
        for _language in _weights:
            _weights[_language] = 2.0
    else:
        for _language in _weights:
            _weights[_language] = 1.0
# Words few enough languages use to be worth a point each, listed once above for one language only.
for _word, _languages in {
    "a": (Language.EN, Language.ES, Language.PT),
    "de": (Language.ES, Language.FR, Language.PT),
    "la": (Language.ES, Language.FR),
    "que": (Language.ES, Language.FR, Language.PT),
    "en": (Language.ES, Language.FR),
    "no": (Language.EN, Language.ES, Language.PT),
    "para": (Language.ES, Language.PT),
    "por": (Language.ES, Language.PT),
    "me": (Language.EN, Language.ES, Language.FR, Language.PT),
    "tu": (Language.ES, Language.FR, Language.PT),
    "se": (Language.ES, Language.FR, Language.PT),
    "si": (Language.ES, Language.FR),
    "mas": (Language.ES, Language.PT),
    "esta": (Language.ES, Language.PT),
    "o": (Language.ES, Language.PT),
    "ou": (Language.FR, Language.PT),
    "as": (Language.EN, Language.PT),
    "un": (Language.ES, Language.FR),
    "comprar": (Language.ES, Language.PT),
}.items():
    _WORD_WEIGHTS[_word] = dict.fromkeys(_languages, 1.0)

_CHAR_CUES: dict[str, dict[Language, float]] = {
    "ñ": {Language.ES: 3},
    "¿": {Language.ES: 3},
    "¡": {Language.ES: 3},
    "ã": {Language.PT: 3},
    "õ": {Language.PT: 3},
    "ç": {Language.FR: 1, Language.PT: 1.5},
    "è": {Language.FR: 2},
    "ù": {Language.FR: 2},
    "œ": {Language.FR: 3},
    "î": {Language.FR: 2},
    "ï": {Language.FR: 2},
    "ë": {Language.FR: 2},
    "û": {Language.FR: 2},
    "â": {Language.FR: 1, Language.PT: 1},
    "ê": {Language.FR: 1, Language.PT: 1},
    "ô": {Language.FR: 1, Language.PT: 1},
    "à": {Language.FR: 1, Language.PT: 1},
    "é": {Language.ES: 0.5, Language.FR: 0.5, Language.PT: 0.5},
    "á": {Language.ES: 1, Language.PT: 1},
    "í": {Language.ES: 1, Language.PT: 1},
    "ó": {Language.ES: 1, Language.PT: 1},
    "ú": {Language.ES: 1, Language.PT: 1},
}
# Ties go to the first of these.
_LANGUAGE_ORDER = (Language.EN, Language.ES, Language.FR, Language.PT)


def detect_language(text: str) -> Language:
    """The message's language among EN, ES, FR and PT, by stop words and accented letters; EN by default."""
    text = text[:MAX_MESSAGE_CHARS]
    scores = dict.fromkeys(_LANGUAGE_ORDER, 0.0)
    for word in words(text):
        for language, weight in _WORD_WEIGHTS.get(word, {}).items():
            scores[language] += weight
    for char in text.lower():
        for language, weight in _CHAR_CUES.get(char, {}).items():
            scores[language] += weight
    best = max(_LANGUAGE_ORDER, key=lambda language: (scores[language], -_LANGUAGE_ORDER.index(language)))
    return best if scores[best] > 0 else Language.EN


# --------------------------------------------------------------------------------------------------------
# References: product names and ordinals
# --------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _name_index(
    items: tuple[tuple[str, str], ...], strict: bool = False
) -> dict[tuple[str, ...], list[tuple[int, str]]]:
    """Token sequence -> [(name words left unsaid, product key)] for every way a product may be named.

    A product is named by its key, its whole name, any run of two or more of its name's words that holds a
    distinctive word (or, with only generic words such as "Carbon Pro", that no other product's name holds),
    or a single distinctive word of four letters or more that no other product's name holds. "Words left
    unsaid" counts the name's meaningful words outside the run (not "padel", "racket" or a year): it prefers
    "Aero Lite" over "Aero Lite Pro" when the shopper says "Aero Lite". ``strict`` keeps only the key, the
    whole name and runs with a distinctive word that start the name ("Kestrel Apex") or hold a model
    number ("the Dive 500"): for products the chat has not shown, where "clay" or "advanced tactics" are
    more likely the shopper's own words than the one search hit whose name holds them.
    """
    index: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    shared_runs: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    single: dict[tuple[str, ...], list[tuple[int, str]]] = {}

    def add(
        table: dict[tuple[str, ...], list[tuple[int, str]]], run: tuple[str, ...], left: int, key: str
    ) -> None:
        entries = table.setdefault(run, [])
        if all(existing != key for _, existing in entries):
            entries.append((left, key))

    for key, name in items:
        key_tokens = tuple(words(key))[:_MAX_NAME_TOKENS]
        if any(char.isalpha() for char in "".join(key_tokens)) and len("".join(key_tokens)) >= 3:
            add(index, key_tokens, 0, key)
        tokens = tuple(words(name))[:_MAX_NAME_TOKENS]
        distinctive = [_is_distinctive(token) for token in tokens]
        meaningful = [not _is_filler(token) for token in tokens]
        if any(distinctive):
            add(index, tokens, 0, key)
        for start in range(len(tokens)):
            for end in range(start + 2, len(tokens) + 1):
                left = sum(meaningful[:start]) + sum(meaningful[end:])
                if any(distinctive[start:end]):
                    if not strict or _firm_run(tokens[start:end], start, distinctive):
                        add(index, tokens[start:end], left, key)
                elif any(meaningful[start:end]):
                    add(shared_runs, tokens[start:end], left, key)
            if distinctive[start] and len(tokens[start]) >= 4:
                add(single, (tokens[start],), sum(meaningful) - 1, key)
    for table in () if strict else (shared_runs, single):
        for run, entries in table.items():
            if len(entries) == 1 and run not in index:
                index[run] = entries
    return index


def _firm_run(run: Sequence[str], start: int, distinctive: Sequence[bool]) -> bool:
    """A run that names an unshown product: the name's distinctive first word onwards, or a model number."""
    return (start == 0 and distinctive[0]) or any(char.isdigit() for token in run for char in token)


def _is_filler(token: str) -> bool:
    return token in _CATEGORY_WORDS or token in _NAME_FILLER or token.isdigit()


def _is_distinctive(token: str) -> bool:
    if token in _GENERIC_NAME_WORDS or token.isdigit() or len(token) < 3:
        return False
    return not understand(token).needs


def _product_refs(
    tokens: Sequence[str], product_names: Mapping[str, str], catalog_names: Mapping[str, str]
) -> tuple[list[str], set[int]]:
    """The keys of the products named, in mention order, and the token positions their names take.

    ``product_names`` (the chat's products) are read leniently, ``catalog_names`` strictly (see
    :func:`_name_index`); a way of naming that fits a chat product belongs to it.
    """
    if not (product_names or catalog_names) or not tokens:
        return [], set()
    index = dict(_name_index(tuple(product_names.items())))
    others = tuple((key, name) for key, name in catalog_names.items() if key not in product_names)
    for run, named_by in _name_index(others, strict=True).items():
        index.setdefault(run, named_by)
    hits: list[tuple[int, int, list[tuple[int, str]]]] = []
    for start in range(len(tokens)):
        for length in range(1, min(_MAX_NAME_TOKENS, len(tokens) - start) + 1):
            entries = index.get(tuple(tokens[start : start + length]))
            if entries:
                hits.append((start, length, entries))
    taken: set[int] = set()
    found: list[tuple[int, str]] = []
    for start, length, entries in sorted(hits, key=lambda hit: (-hit[1], hit[0])):
        span = set(range(start, start + length))
        if span & taken:
            continue
        taken |= span
        fewest = min(left for left, _ in entries)
        found.extend((start, key) for left, key in sorted(entries, key=lambda e: e[1]) if left == fewest)
    refs: list[str] = []
    for _, key in sorted(found, key=lambda hit: hit[0]):
        if key not in refs:
            refs.append(key)
    return refs, taken


def _ordinal_refs(folded: str, tokens: Sequence[str]) -> list[int]:
    found: list[tuple[int, int]] = []
    for match in _FIRST_N.finditer(folded):
        count = _COUNTS[match.group(1) or match.group(2)]
        found += [(match.start(), position) for position in range(1, count + 1)]
    for match in _ORDINAL_NUMBER.finditer(folded):
        value = int(match.group(1) or match.group(2))
        if 1 <= value <= 20:
            found.append((match.start(), value))
    position = 0
    for index, token in enumerate(tokens):
        at = folded.find(token, position)
        if at >= 0:
            position = at + len(token)
        ordinal = _ORDINAL_WORDS.get(token)
        if ordinal is None:
            continue
        before = tokens[index - 1] if index else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        before_ok = before in _ORDINAL_BEFORE and not (before == "a" and token in _ENGLISH_ORDINALS)
        if before_ok or after in _ORDINAL_AFTER:
            found.append((at, ordinal))
    ordinals: list[int] = []
    for _, value in sorted(found):
        if value not in ordinals:
            ordinals.append(value)
    return ordinals


# --------------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------------

_EMPTY: Mapping[str, str] = MappingProxyType({})


class _Message:
    """One message read once: folded text, words, references and (lazily) its query understanding."""

    def __init__(
        self, message: str, product_names: Mapping[str, str], catalog_names: Mapping[str, str] = _EMPTY
    ) -> None:
        self.text = message[:MAX_MESSAGE_CHARS]
        self.folded = fold(self.text)
        self.tokens = words(self.text)
        self.joined = " ".join(self.tokens)
        self.token_set = frozenset(self.tokens)
        self.product_refs, named = _product_refs(self.tokens, product_names, catalog_names)
        # Words outside product names: "Nox Aero Lite Padel Racket" names a product, not the racket category.
        self.free_words = frozenset(token for index, token in enumerate(self.tokens) if index not in named)
        self.ordinal_refs = _ordinal_refs(self.folded, self.tokens)
        self._understood: QueryUnderstanding | None = None

    @property
    def understood(self) -> QueryUnderstanding:
        if self._understood is None:
            self._understood = understand(self.text)
        return self._understood

    @property
    def item_count(self) -> int:
        return len(self.product_refs) + len(self.ordinal_refs)

    @property
    def points_at_item(self) -> bool:
        return self.item_count > 0 or bool(self.token_set & _PRONOUNS)

    @property
    def implies_item(self) -> bool:
        """A short question or a verb with no subject ("¿Es duradera?", "Durable?"): about the item shown."""
        short_question = len(self.tokens) <= 3 and "?" in self.text
        subjectless = bool(self.tokens) and self.tokens[0] in _SUBJECTLESS_VERBS and not self.names_category
        return short_question or subjectless

    @property
    def names_category(self) -> bool:
        return bool(self.free_words & _CATEGORY_WORDS)

    @property
    def has_attributes(self) -> bool:
        return bool(self.token_set & _COLOURS) or _SIZE.search(self.folded) is not None

    @property
    def has_search_content(self) -> bool:
        """A category, need, price, rating, stock, colour, size or gift: what makes a request not vague."""
        if (
            self.names_category
            or self.has_attributes
            or _DISCOVER_EXTRA.search(self.joined)
            or _GIFT.search(self.joined)
        ):
            return True
        return self.has_needs_or_filters

    @property
    def has_needs_or_filters(self) -> bool:
        understood = self.understood
        filters = understood.filters
        return bool(understood.needs) or any(
            value is not None
            for value in (filters.min_price, filters.max_price, filters.min_rating, filters.in_stock)
        )


def _objection(message: _Message, has_recommendations: bool) -> ObjectionTopic | None:
    for topic, phrases in _OBJECTION_STRONG:
        if phrases.search(message.joined):
            return topic
    if message.points_at_item or (has_recommendations and message.implies_item):
        for topic, phrases in _OBJECTION_REFERENTIAL:
            if phrases.search(message.joined):
                return topic
    return None


def _decide(
    message: _Message, has_recommendations: bool, suspicious: bool
) -> tuple[Intent, float, ObjectionTopic | None]:
    joined = message.joined
    if not message.tokens:
        return Intent.VAGUE, 0.3, None
    if message.token_set <= _GREETING_WORDS and (
        message.token_set & _GREETING_MARKERS or _HOW_ARE_YOU.search(joined)
    ):
        return Intent.GREETING, 0.95, None
    if _INAPPROPRIATE.search(joined):
        return Intent.INAPPROPRIATE, 0.95, None
    if suspicious:
        if _SUSPICIOUS_SUPPORT.search(joined) or _SUPPORT.search(joined):
            return Intent.SUPPORT, 0.7, None
        return Intent.OFF_TOPIC, 0.7, None
    if _SUPPORT.search(joined):
        return Intent.SUPPORT, 0.9, None
    if _ORDER_STATUS.search(joined) or _ORDER_ID.search(message.folded):
        return Intent.ORDER_STATUS, 0.9, None
    if _OFF_TOPIC.search(joined):
        return Intent.OFF_TOPIC, 0.85, None
    if _DISCOUNT.search(joined):
        return Intent.DISCOUNT, 0.9, None
    if _COMPARE.search(joined):
        return Intent.COMPARE, 0.9, None
    if message.item_count >= 2 and message.token_set & _COMPARE_WEAK:
        return Intent.COMPARE, 0.8, None
    if (
        has_recommendations
        and not message.item_count
        and not message.names_category
        and message.token_set & _WHICH
        and message.token_set & _SUPERLATIVE
    ):
        return Intent.COMPARE, 0.7, None
    if _BUY.search(joined) or _ADD_TO_CART.search(joined):
        return Intent.BUY, 0.9, None
    if _BUY_WEAK.search(joined) and (message.item_count or not message.has_search_content):
        return Intent.BUY, 0.8, None
    if message.item_count and _CHOOSE.search(joined) and not _REFINE.search(joined):
        return Intent.BUY, 0.7, None
    topic = _objection(message, has_recommendations)
    if topic is not None:
        return Intent.OBJECTION, 0.85 if topic is not ObjectionTopic.OTHER else 0.6, topic
    if _DETAILS_STRONG.search(joined) and (message.points_at_item or not message.names_category):
        return Intent.PRODUCT_DETAILS, 0.85, None
    if message.points_at_item and message.token_set & (_DETAIL_ATTRIBUTES | _COLOURS):
        return Intent.PRODUCT_DETAILS, 0.8, None
    if has_recommendations and (
        _REFINE.search(joined) or (message.has_attributes and not message.item_count)
    ):
        return Intent.REFINE, 0.8, None
    if message.item_count and message.has_needs_or_filters:
        return Intent.PRODUCT_DETAILS, 0.7, None
    if has_recommendations and not message.names_category and message.has_needs_or_filters:
        return Intent.REFINE, 0.75, None
    if message.has_search_content:
        return Intent.DISCOVER, 0.85 if message.names_category else 0.75, None
    if _VAGUE.search(joined):
        return Intent.VAGUE, 0.8, None
    if message.item_count:
        return Intent.PRODUCT_DETAILS, 0.55, None
    if message.token_set <= _ACKS:
        return Intent.VAGUE, 0.4, None
    return Intent.OFF_TOPIC, 0.4, None


def classify(
    message: str,
    *,
    product_names: Mapping[str, str] = _EMPTY,
    has_recommendations: bool = False,
    catalog_names: Mapping[str, str] = _EMPTY,
) -> Classification:
    """Read one shopper message into an intent; never raises on any string.

    ``product_names`` maps product keys (ids) to display names: the keys of those mentioned come back in
    ``product_refs``. ``catalog_names`` are more products the message may name (search hits for it), only
    recognised by their whole name or a run of their name's words holding a distinctive word ("the Dive
    500"). ``has_recommendations`` says the conversation already shows results, which is what lets
    "cheaper" or "in blue" refine them. See the module docstring for the rules.
    """
    read = _Message(message, product_names, catalog_names)
    suspicious = _SUSPICIOUS.search(read.folded) is not None
    intent, confidence, topic = _decide(read, has_recommendations, suspicious)
    return Classification(
        intent=intent,
        confidence=confidence,
        objection_topic=topic,
        product_refs=read.product_refs,
        ordinal_refs=read.ordinal_refs,
        language=detect_language(read.text),
        suspicious=suspicious,
    )
