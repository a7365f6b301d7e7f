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


def reset() -> None:
    """Forget every dependency made so far (the environment they were made from has changed)."""
    for dependency in (repository, catalog, embedder, search_index, search_service, search_indexer):
        dependency.cache_clear()
    get_settings.cache_clear()
