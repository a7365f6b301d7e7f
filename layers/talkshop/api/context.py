"""Per-process dependencies of the handlers, created once per cold start (or on first use).

Search pieces are imported on first use: numpy and the model load only in functions that search.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from talkshop.api.app import header
from talkshop.api.cookies import session_id_from_cookies, shopper_token_from_cookies
from talkshop.auth import ANONYMOUS, Principal, authenticate
from talkshop.catalog.service import CatalogService
from talkshop.data.repository import Repository
from talkshop.settings import LOCAL_SEARCH, MINILM_EMBEDDINGS, get_settings

if TYPE_CHECKING:
    from talkshop.advisor.model import Advisor, ShopCatalog, ShopCommerce
    from talkshop.advisor.service import ChatService, ChatSessions
    from talkshop.commerce.carts import CartService
    from talkshop.commerce.checkout import CheckoutRunner, CheckoutService
    from talkshop.commerce.discounts import DiscountService
    from talkshop.commerce.orders import OrderService
    from talkshop.commerce.payments import PaymentProvider
    from talkshop.commerce.store import CommerceStore
    from talkshop.events.publisher import EventPublisher
    from talkshop.search.indexer import SearchIndexer
    from talkshop.search.model import Embedder, SearchIndex
    from talkshop.search.service import SearchService


@lru_cache(maxsize=1)
def repository() -> Repository:
    return Repository(boto3.resource("dynamodb").Table(get_settings().table_name))


@lru_cache(maxsize=1)
def catalog() -> CatalogService:
    return CatalogService(repository())


def caller(app: APIGatewayRestResolver, *, signed_in: bool = False) -> Principal:
    """Who is calling: the Authorization header, else a cookie: with `signed_in` (the dashboards and
    their APIs) the creator's or admin's session cookie from /login, else the shopper cookie. The two
    never mix: a signed-in creator who also chats stays a shopper on the shop's pages."""
    authorization = header(app, "Authorization")
    if authorization is None and signed_in:
        from talkshop.api.sessions import SESSION_ID_PREFIX, session_principal

        session_id = session_id_from_cookies(header(app, "Cookie"), SESSION_ID_PREFIX)
        return session_principal(session_id, repository(), get_settings()) if session_id else ANONYMOUS
    if authorization is None:
        token = shopper_token_from_cookies(header(app, "Cookie"))
        authorization = f"Bearer {token}" if token else None
    return authenticate(authorization, repository(), get_settings())


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    from talkshop.search.providers import embedder_from_settings

    return embedder_from_settings(get_settings())


@lru_cache(maxsize=1)
def search_index() -> SearchIndex:
    settings = get_settings()
    if settings.search_backend == LOCAL_SEARCH:
        from talkshop.search.local_index import shared_index

        return shared_index(Path(settings.search_index_dir), embedder().dimension)
    from talkshop.search.opensearch import OpenSearchIndex, client_from_environment

    return OpenSearchIndex(
        client_from_environment(),
        settings.opensearch_index,
        dimension=embedder().dimension,
        replicas=settings.opensearch_replicas,
    )


@lru_cache(maxsize=1)
def search_service() -> SearchService:
    from talkshop.search.service import SearchService

    return SearchService(search_index(), embedder())


@lru_cache(maxsize=1)
def search_indexer() -> SearchIndexer:
    from talkshop.search.demo_vectors import load_demo_vectors
    from talkshop.search.indexer import SearchIndexer

    # The shipped demo vectors are the built-in model's; another provider embeds the demo itself.
    known = load_demo_vectors() if get_settings().embeddings == MINILM_EMBEDDINGS else {}
    return SearchIndexer(search_index(), embedder(), known)


@lru_cache(maxsize=1)
def shop_catalog() -> ShopCatalog:
    from talkshop.advisor.catalog import LiveCatalog

    return LiveCatalog(search_service(), catalog().get_products)


@lru_cache(maxsize=1)
def shop_commerce() -> ShopCommerce:
    from talkshop.advisor.shop_commerce import LiveCommerce

    return LiveCommerce(discounts(), orders())


@lru_cache(maxsize=1)
def advisor() -> Advisor:
    """An LLM engine when one is configured (it falls back to the rules itself), else the rules."""
    from talkshop.advisor.engine import RulesAdvisor
    from talkshop.llm.factory import llm_advisor_from_environment

    rules = RulesAdvisor(shop_catalog(), commerce=shop_commerce())
    return llm_advisor_from_environment(shop_catalog(), rules, shop_commerce()) or rules


@lru_cache(maxsize=1)
def chat_sessions() -> ChatSessions:
    from talkshop.advisor.service import ChatSessions
    from talkshop.advisor.store import ConversationStore

    return ChatSessions(ConversationStore(repository()))


@lru_cache(maxsize=1)
def chat_service() -> ChatService:
    from talkshop.advisor.service import ChatService
    from talkshop.advisor.store import ConversationStore

    return ChatService(ConversationStore(repository()), shop_catalog(), advisor(), carts=carts())


@lru_cache(maxsize=1)
def event_publisher() -> EventPublisher:
    from talkshop.events.publisher import EventPublisher

    return EventPublisher(boto3.client("events"), get_settings().event_bus_name)


@lru_cache(maxsize=1)
def commerce_store() -> CommerceStore:
    from talkshop.commerce.store import CommerceStore

    return CommerceStore(repository())


@lru_cache(maxsize=1)
def discounts() -> DiscountService:
    from talkshop.commerce.discounts import DiscountService

    return DiscountService(commerce_store())


@lru_cache(maxsize=1)
def carts() -> CartService:
    from talkshop.advisor.store import ConversationStore
    from talkshop.commerce.carts import CartService

    return CartService(commerce_store(), ConversationStore(repository()), discounts())


@lru_cache(maxsize=1)
def orders() -> OrderService:
    from talkshop.commerce.orders import OrderService

    return OrderService(commerce_store())


@lru_cache(maxsize=1)
def checkout_runner() -> CheckoutRunner:
    """The checkout state machine (TALKSHOP_CHECKOUT_STATE_MACHINE_ARN), started synchronously."""
    from talkshop.commerce.checkout import StepFunctionsCheckoutRunner

    arn = get_settings().checkout_state_machine_arn
    if not arn:
        raise RuntimeError("TALKSHOP_CHECKOUT_STATE_MACHINE_ARN is not set: checkout has no state machine")
    return StepFunctionsCheckoutRunner(arn)


@lru_cache(maxsize=1)
def checkout() -> CheckoutService:
    from talkshop.advisor.store import ConversationStore
    from talkshop.commerce.checkout import CheckoutService

    # No payment provider here: the checkout_steps function charges, with its own configuration.
    return CheckoutService(commerce_store(), ConversationStore(repository()), checkout_runner())


@lru_cache(maxsize=1)
def payment_provider() -> PaymentProvider:
    from talkshop.commerce.payments import provider_from_settings

    return provider_from_settings(repository())


def reset() -> None:
    """Forget every dependency made so far (the environment they were made from has changed)."""
    for dependency in (
        repository,
        catalog,
        embedder,
        search_index,
        search_service,
        search_indexer,
        shop_catalog,
        shop_commerce,
        advisor,
        chat_sessions,
        chat_service,
        event_publisher,
        commerce_store,
        discounts,
        carts,
        orders,
        checkout_runner,
        checkout,
        payment_provider,
    ):
        dependency.cache_clear()
    get_settings.cache_clear()
    from talkshop.api import idempotency
    from talkshop.commerce import checkout_steps

    idempotency.reset()
    checkout_steps.default_steps.cache_clear()
