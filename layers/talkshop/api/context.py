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
from talkshop.auth import Principal, authenticate
from talkshop.catalog.service import CatalogService
from talkshop.data.repository import Repository
from talkshop.settings import LOCAL_SEARCH, MINILM_EMBEDDINGS, get_settings

if TYPE_CHECKING:
    from talkshop.advisor.model import Advisor, ShopCatalog
    from talkshop.advisor.service import ChatService, ChatSessions
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


def caller(app: APIGatewayRestResolver) -> Principal:
    return authenticate(header(app, "Authorization"), repository(), get_settings())


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
def advisor() -> Advisor:
    """An LLM engine when one is configured (it falls back to the rules itself), else the rules."""
    from talkshop.advisor.engine import RulesAdvisor
    from talkshop.llm.factory import llm_advisor_from_environment

    rules = RulesAdvisor(shop_catalog())
    return llm_advisor_from_environment(shop_catalog(), rules) or rules


@lru_cache(maxsize=1)
def chat_sessions() -> ChatSessions:
    from talkshop.advisor.service import ChatSessions
    from talkshop.advisor.store import ConversationStore

    return ChatSessions(ConversationStore(repository()))


@lru_cache(maxsize=1)
def chat_service() -> ChatService:
    from talkshop.advisor.service import ChatService
    from talkshop.advisor.store import ConversationStore

    return ChatService(ConversationStore(repository()), shop_catalog(), advisor())


@lru_cache(maxsize=1)
def event_publisher() -> EventPublisher:
    from talkshop.events.publisher import EventPublisher

    return EventPublisher(boto3.client("events"), get_settings().event_bus_name)


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
        advisor,
        chat_sessions,
        chat_service,
        event_publisher,
    ):
        dependency.cache_clear()
    get_settings.cache_clear()
