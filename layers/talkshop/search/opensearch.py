"""The OpenSearch adapter of :class:`~talkshop.search.model.SearchIndex`: Amazon OpenSearch Service, k-NN.

One index holds, per active product, the keyword fields BM25 searches, the fields filters test and the
all-MiniLM-L6-v2 embedding. The request bodies are built by pure functions (``index_mapping``,
``filter_clauses``, ``keyword_query_body``, ``vector_query_body``, ``bulk_actions``) so that the unit tests
check them against the mapping without a cluster; :class:`OpenSearchIndex` only sends them.

Mapping choices:

* ``vector`` is a ``knn_vector`` indexed with HNSW by the **lucene** engine, space **cosinesimil**. Lucene
  applies the filter *during* the graph search (efficient k-NN filtering, OpenSearch 2.4+) and switches to
  an exact search over the filtered documents when the filter leaves few of them, so a restrictive filter
  (one creator's shop, a narrow price band) still yields k results. It keeps no native-memory graph cache
  to size, and it is the engine suited to catalogue-sized indexes (up to a few million vectors). Faiss
  filters efficiently too (2.9+), but its HNSW has accepted ``cosinesimil`` only since 2.19.
  The vectors are L2-normalised, so cosine and inner product rank alike; ``cosinesimil`` is kept because
  its score is one formula, ``(1 + cos) / 2``, which turns back into the cosine exactly (innerproduct's
  score is piecewise) and it stays right should a vector ever arrive unnormalised.
* The text fields use ``talkshop_english``: the built-in ``english`` analyzer (possessives, stop words,
  Porter stemming) plus ASCII folding, so 'pádel' matches 'padel' as :func:`talkshop.text.fold` makes it
  match in the local index. Field weights are set at query time (:data:`KEYWORD_FIELDS`).
* ``brand`` and ``category`` are text for BM25 and carry a ``.keyword`` sub-field, folded by a lowercase +
  ASCII-folding normalizer, for filters; ``tags`` is keyword with the same normalizer (OpenSearch applies
  a keyword field's normalizer to the value of a ``term`` query as well).
* ``dynamic: strict``: a document field the mapping does not name is refused, not guessed at.
* One shard: a catalogue is small, and one shard keeps BM25 statistics and the k-NN top k exact.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from opensearchpy import (
    NotFoundError,
    OpenSearch,
    RequestError,
    RequestsAWSV4SignerAuth,
    RequestsHttpConnection,
    TransportError,
    helpers,
)

from talkshop.search.model import ScoredId, SearchDocument, SearchFilters
from talkshop.settings import OPENSEARCH_ENDPOINT_VARIABLE

Vector = npt.NDArray[np.float32]


DEFAULT_DIMENSION: Final = 384
VECTOR_FIELD: Final = "vector"
ANALYZER: Final = "talkshop_english"
NORMALIZER: Final = "folded"
# The keyword fields of SearchDocument.keyword_fields with their query-time weights: the FIELD_WEIGHTS of
# the local index (talkshop.search.local_index), so that both adapters rank alike.
KEYWORD_FIELDS: Final = ("name^3", "brand^2", "category^2", "ai_text^1.5", "description")
MGET_BATCH: Final = 200
# Amazon OpenSearch Service refuses requests over 10 MiB on small instance types; a document with its
# vector is ~10 KiB of JSON, so chunks stay well below that.
BULK_CHUNK_DOCUMENTS: Final = 200
BULK_CHUNK_BYTES: Final = 5 * 1024 * 1024


class IndexingFailed(RuntimeError):
    """Some documents of a bulk request were refused (after the retries, for throttling)."""

    def __init__(self, message: str, errors: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)


def index_mapping(dimension: int = DEFAULT_DIMENSION, replicas: int = 1) -> dict[str, Any]:
    """The body of the create-index request: settings (k-NN on, analysis) and the strict mapping."""
    text = {"type": "text", "analyzer": ANALYZER}
    folded_keyword = {"type": "keyword", "normalizer": NORMALIZER, "ignore_above": 256}
    return {
        "settings": {
            "index": {"knn": True, "number_of_shards": 1, "number_of_replicas": replicas},
            "analysis": {
                "filter": {
                    "english_possessive_stemmer": {"type": "stemmer", "language": "possessive_english"},
                    "english_stop": {"type": "stop", "stopwords": "_english_"},
                    "english_stemmer": {"type": "stemmer", "language": "english"},
                },
                "analyzer": {
                    ANALYZER: {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": [
                            "english_possessive_stemmer",
                            "lowercase",
                            "asciifolding",
                            "english_stop",
                            "english_stemmer",
                        ],
                    }
                },
                "normalizer": {NORMALIZER: {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                "name": dict(text),
                "brand": {**text, "fields": {"keyword": dict(folded_keyword)}},
                "category": {**text, "fields": {"keyword": dict(folded_keyword)}},
                "description": dict(text),
                "ai_text": dict(text),
                "creator_id": {"type": "keyword"},
                "price": {"type": "long"},
                "currency": {"type": "keyword"},
                "stock": {"type": "integer"},
                "rating": {"type": "float"},
                "tags": dict(folded_keyword),
                # Kept so that a document reads back whole; never searched.
                "embedding_text": {"type": "text", "index": False},
                "text_hash": {"type": "keyword", "index": False},
                VECTOR_FIELD: {
                    "type": "knn_vector",
                    "dimension": dimension,
                    "method": {
                        "name": "hnsw",
                        "engine": "lucene",
                        "space_type": "cosinesimil",
                        "parameters": {"m": 16, "ef_construction": 128},
                    },
                },
            },
        },
    }


def filter_clauses(filters: SearchFilters) -> list[dict[str, Any]]:
    """The filters as bool.filter clauses (no scoring). An absent filter adds no clause."""
    clauses: list[dict[str, Any]] = []
    price: dict[str, int] = {}
    if filters.min_price is not None:
        price["gte"] = filters.min_price
    if filters.max_price is not None:
        price["lte"] = filters.max_price
    if price:
        clauses.append({"range": {"price": price}})
    # As the catalogue API reads it: true is "stock above 0", false is "out of stock", None is either.
    if filters.in_stock is True:
        clauses.append({"range": {"stock": {"gt": 0}}})
    elif filters.in_stock is False:
        clauses.append({"range": {"stock": {"lte": 0}}})
    # A range never matches a document without the field: unrated products fail any min_rating.
    if filters.min_rating is not None:
        clauses.append({"range": {"rating": {"gte": filters.min_rating}}})
    if filters.category is not None:
        clauses.append({"term": {"category.keyword": filters.category}})
    if filters.brand is not None:
        clauses.append({"term": {"brand.keyword": filters.brand}})
    if filters.creator_id is not None:
        clauses.append({"term": {"creator_id": filters.creator_id}})
    # Every tag asked for must be present (one clause each); the normalizer folds their case.
    clauses.extend({"term": {"tags": tag}} for tag in dict.fromkeys(filters.tags))
    return clauses


def keyword_query_body(text: str, filters: SearchFilters, k: int) -> dict[str, Any]:
    """BM25 over the weighted keyword fields, typo-tolerant, among the documents passing the filters."""
    return {
        "size": k,
        "_source": ["id"],
        "track_total_hits": False,
        "query": {
            "bool": {
                "must": [
                    {
                        "multi_match": {
                            "query": text,
                            # best_fields: the best field scores, the others add a little (tie_breaker).
                            # cross_fields would refuse fuzziness.
                            "type": "best_fields",
                            "fields": list(KEYWORD_FIELDS),
                            "tie_breaker": 0.3,
                            "fuzziness": "AUTO",
                            # Typos rarely hit the first letter; fixing it keeps the expansion small.
                            "prefix_length": 1,
                            "max_expansions": 20,
                        }
                    }
                ],
                "filter": filter_clauses(filters),
            }
        },
    }


def vector_query_body(vector: Vector, filters: SearchFilters, k: int) -> dict[str, Any]:
    """k-NN by cosine, with the filter inside the knn clause (efficient filtering: k results that pass)."""
    knn: dict[str, Any] = {"vector": _floats(vector), "k": k}
    clauses = filter_clauses(filters)
    if clauses:
        knn["filter"] = {"bool": {"filter": clauses}}
    return {
        "size": k,
        "_source": ["id"],
        "track_total_hits": False,
        "query": {"knn": {VECTOR_FIELD: knn}},
    }


def bulk_actions(documents: Sequence[SearchDocument], vectors: Vector, index: str) -> list[dict[str, Any]]:
    """helpers.bulk index actions: every document field plus the vector, keyed by product id."""
    if vectors.ndim != 2 or vectors.shape[0] != len(documents):
        raise ValueError(f"{len(documents)} documents but vectors of shape {vectors.shape}")
    return [
        {
            "_op_type": "index",
            "_index": index,
            "_id": document.id,
            "_source": {**document.model_dump(mode="json"), VECTOR_FIELD: _floats(vector)},
        }
        for document, vector in zip(documents, vectors, strict=True)
    ]


def _floats(vector: npt.NDArray[Any]) -> list[float]:
    return np.asarray(vector, dtype=np.float32).reshape(-1).tolist()


def _cosine(knn_score: float) -> float:
    """The cosine similarity back from the score of a cosinesimil k-NN hit, (1 + cos) / 2."""
    return 2.0 * knn_score - 1.0


class OpenSearchIndex:
    """:class:`~talkshop.search.model.SearchIndex` on an OpenSearch index (Amazon OpenSearch Service)."""

    def __init__(
        self,
        client: OpenSearch,
        index_name: str,
        *,
        dimension: int = DEFAULT_DIMENSION,
        replicas: int = 1,
        max_retries: int = 4,
        initial_backoff_s: int = 1,
        max_backoff_s: int = 16,
    ) -> None:
        self.client = client
        self.index_name = index_name
        self.dimension = dimension
        self.replicas = replicas
        # Throttled bulk requests (HTTP 429, whole or per document) are retried after 1, 2, 4, 8 s.
        self.max_retries = max_retries
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self._index_known = False

    def ensure_index(self) -> bool:
        """Create the index with its mapping unless it exists; True when this call created it."""
        if self.client.indices.exists(index=self.index_name):
            self._index_known = True
            return False
        try:
            self.client.indices.create(
                index=self.index_name, body=index_mapping(self.dimension, self.replicas)
            )
        except RequestError as error:
            if error.error != "resource_already_exists_exception":
                raise
            created = False  # by another caller, meanwhile
        else:
            created = True
        self._index_known = True
        return created

    def upsert(self, documents: Sequence[SearchDocument], vectors: Vector) -> None:
        if vectors.ndim != 2 or vectors.shape != (len(documents), self.dimension):
            raise ValueError(
                f"expected vectors of shape ({len(documents)}, {self.dimension}), got {vectors.shape}"
            )
        if not documents:
            return
        # A bulk write to a missing index would auto-create it with a guessed mapping (the vector as a
        # float array, no k-NN): make sure it exists first, once per adapter.
        if not self._index_known:
            self.ensure_index()
        self._bulk(bulk_actions(documents, vectors, self.index_name))

    def delete(self, ids: Sequence[str]) -> None:
        actions = [
            {"_op_type": "delete", "_index": self.index_name, "_id": product_id}
            for product_id in dict.fromkeys(ids)
        ]
        if actions:
            self._bulk(actions, ignore_status=(404,))

    def cached_vectors(self, text_hashes: Mapping[str, str]) -> dict[str, Vector]:
        found: dict[str, Vector] = {}
        ids = list(text_hashes)
        for start in range(0, len(ids), MGET_BATCH):
            body = {
                "docs": [
                    {"_id": product_id, "_source": ["text_hash", VECTOR_FIELD]}
                    for product_id in ids[start : start + MGET_BATCH]
                ]
            }
            try:
                response = self.client.mget(index=self.index_name, body=body)
            except NotFoundError:  # no index yet: nothing cached
                return {}
            # A document that is missing, or failed (with an "error" in place of "found"), is not cached.
            for doc in response["docs"]:
                source = doc.get("_source") or {}
                product_id = doc["_id"]
                vector = source.get(VECTOR_FIELD)
                if doc.get("found") and vector and source.get("text_hash") == text_hashes.get(product_id):
                    found[product_id] = np.asarray(vector, dtype=np.float32)
        return found

    def documents(self, ids: Sequence[str]) -> dict[str, SearchDocument]:
        fields = list(SearchDocument.model_fields)
        found: dict[str, SearchDocument] = {}
        for start in range(0, len(ids), MGET_BATCH):
            body = {
                "docs": [
                    {"_id": product_id, "_source": fields} for product_id in ids[start : start + MGET_BATCH]
                ]
            }
            try:
                response = self.client.mget(index=self.index_name, body=body)
            except NotFoundError:  # no index yet: no documents
                return {}
            for doc in response["docs"]:
                if doc.get("found"):
                    found[doc["_id"]] = SearchDocument.model_validate(doc["_source"])
        return found

    def keyword_search(self, text: str, filters: SearchFilters, k: int) -> list[ScoredId]:
        if k <= 0 or not text.strip():
            return []
        response = self._search(keyword_query_body(text, filters, k))
        return [ScoredId(hit["_source"]["id"], float(hit["_score"])) for hit in response["hits"]["hits"]]

    def vector_search(self, vector: Vector, filters: SearchFilters, k: int) -> list[ScoredId]:
        if k <= 0:
            return []
        if vector.shape != (self.dimension,):
            raise ValueError(f"expected a vector of shape ({self.dimension},), got {vector.shape}")
        response = self._search(vector_query_body(vector, filters, k))
        return [
            ScoredId(hit["_source"]["id"], _cosine(float(hit["_score"]))) for hit in response["hits"]["hits"]
        ]

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self.client.search(index=self.index_name, body=body)
        except NotFoundError:  # nothing indexed yet: no product matches
            return {"hits": {"hits": []}}
        return response

    def count(self) -> int:
        return int(self.client.count(index=self.index_name)["count"])

    def brands(self) -> list[str]:
        """Brands as the keyword sub-field holds them (folded: lowercase, no accents)."""
        response = self.client.search(
            index=self.index_name,
            body={"size": 0, "aggs": {"brands": {"terms": {"field": "brand.keyword", "size": 10_000}}}},
        )
        return sorted(str(bucket["key"]) for bucket in response["aggregations"]["brands"]["buckets"])

    def _bulk(self, actions: list[dict[str, Any]], ignore_status: tuple[int, ...] = ()) -> None:
        """Send actions in chunks, retrying throttled ones; raise IndexingFailed on any other refusal.

        Per-document 429s are only retried by streaming_bulk with raise_on_error=False (with True, the
        first failed item raises before the retry sees it), so failures are collected here instead.
        """
        failures: list[dict[str, Any]] = []
        try:
            for ok, item in helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=BULK_CHUNK_DOCUMENTS,
                max_chunk_bytes=BULK_CHUNK_BYTES,
                raise_on_error=False,
                max_retries=self.max_retries,
                initial_backoff=self.initial_backoff_s,
                max_backoff=self.max_backoff_s,
                yield_ok=False,
            ):
                result: dict[str, Any] = next(iter(item.values()), {})
                if not ok and result.get("status") not in ignore_status:
                    failures.append(item)
        except TransportError as error:
            if error.status_code == 429:  # the whole request, still throttled after every retry
                raise IndexingFailed(
                    f"{self.index_name} throttled a bulk request {self.max_retries + 1} times"
                ) from error
            raise
        if failures:
            reasons = "; ".join(_reason(item) for item in failures[:3])
            raise IndexingFailed(
                f"{len(failures)} document(s) refused by {self.index_name}: {reasons}", failures
            )


def _reason(item: Mapping[str, Any]) -> str:
    """'id: error type: reason' of one failed bulk item ({op_type: {"_id", "status", "error"}})."""
    result: Mapping[str, Any] = next(iter(item.values()), {})
    error = result.get("error")
    if isinstance(error, Mapping):
        error = f"{error.get('type')}: {error.get('reason')}"
    return f"{result.get('_id')} (status {result.get('status')}): {error}"


def client_from_environment() -> OpenSearch:
    """An OpenSearch client for the domain at $TALKSHOP_OPENSEARCH_ENDPOINT, SigV4-signed as the Lambda."""
    import boto3  # here: only AWS needs it, and it is slow to import

    endpoint = os.environ[OPENSEARCH_ENDPOINT_VARIABLE].removeprefix("https://").rstrip("/")
    session = boto3.Session()
    region = os.environ.get("AWS_REGION") or session.region_name
    credentials = session.get_credentials()
    if not region or credentials is None:
        raise RuntimeError("no AWS region or credentials to sign OpenSearch requests with")
    return OpenSearch(
        hosts=[{"host": endpoint, "port": 443}],
        # AWSV4SignerAuth under its current name; signs each request with the credentials of the moment
        http_auth=RequestsAWSV4SignerAuth(credentials, region, "es"),
        use_ssl=True,
        verify_certs=True,
        connection_class=RequestsHttpConnection,
        timeout=10,
        max_retries=2,
        retry_on_timeout=True,
        pool_maxsize=4,
    )
