"""OpenSearchIndex end to end: a real opensearch-py client against a fake OpenSearch on 127.0.0.1.

The fake implements just the REST calls the adapter makes (HEAD/PUT index, _bulk, _mget, _search, _count)
and interprets the bodies the query builders produce: multi_match as a naive term-overlap score over the
weighted fields (honouring fuzziness AUTO), knn as exact cosine over the stored vectors, bool/term/terms/
range filters with the normalizers the created mapping declares, and ``dynamic: strict``. Anything else is
a 400, so a body the fake cannot read fails the test rather than matching nothing. It can also throttle
(429: a whole bulk request, or each document of one) and refuse chosen documents.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import actions as bulk_helpers

from talkshop.search.model import ScoredId, SearchDocument, SearchFilters, SearchIndex
from talkshop.search.opensearch import IndexingFailed, OpenSearchIndex, index_mapping

INDEX = "talkshop-products"
DIMENSION = 384
F32 = npt.NDArray[np.float32]


# --- the fake server ------------------------------------------------------------------------------------


class BadRequest(Exception):
    def __init__(self, error_type: str, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.error_type = error_type
        self.reason = reason
        self.status = status


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _tokens(value: Any) -> list[str]:
    if value is None:
        return []
    text = " ".join(map(str, value)) if isinstance(value, list) else str(value)
    return re.findall(r"[a-z0-9]+", _fold(text))


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _auto_fuzziness(term: str) -> int:
    return 0 if len(term) <= 2 else 1 if len(term) <= 5 else 2


@dataclass
class FakeIndex:
    body: dict[str, Any]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def field(self, path: str) -> dict[str, Any]:
        head, _, sub = path.partition(".")
        properties = self.body["mappings"]["properties"]
        if head not in properties or (sub and sub not in properties[head].get("fields", {})):
            raise BadRequest("query_shard_exception", f"no mapping for field [{path}]")
        mapping: dict[str, Any] = properties[head]["fields"][sub] if sub else properties[head]
        return mapping

    def exact_values(self, path: str, doc: dict[str, Any]) -> list[Any]:
        """The values a term/range on the field sees: keyword values run through the field's normalizer."""
        mapping = self.field(path)
        if mapping["type"] == "text":
            raise BadRequest("query_shard_exception", f"term-level query on text field [{path}]")
        value = doc.get(path.partition(".")[0])
        values = value if isinstance(value, list) else [] if value is None else [value]
        if mapping.get("normalizer"):
            return [_fold(str(item)) for item in values]
        return values

    def normalized(self, path: str, value: Any) -> Any:
        return _fold(str(value)) if self.field(path).get("normalizer") else value


@dataclass
class FakeOpenSearch:
    indices: dict[str, FakeIndex] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    throttle_requests: int = 0  # answer this many bulk requests with HTTP 429
    throttle_documents: int = 0  # answer each document of this many bulk requests with status 429
    refuse_ids: set[str] = field(default_factory=set)  # index items refused with mapper_parsing_exception
    hide_indices: bool = False  # HEAD says 404 even when the index exists (another caller created it)
    unexpected: list[str] = field(default_factory=list)  # requests the fake does not serve
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((method, path))
            parts = [part for part in path.split("/") if part]
            try:
                return self._route(method, parts, body)
            except BadRequest as error:
                return error.status, {
                    "error": {"type": error.error_type, "reason": error.reason},
                    "status": error.status,
                }

    def _route(self, method: str, parts: list[str], body: bytes) -> tuple[int, Any]:
        if parts == ["_bulk"] and method in ("POST", "PUT"):
            return self._bulk(body)
        if len(parts) == 1 and method == "HEAD":
            return (200 if parts[0] in self.indices and not self.hide_indices else 404), None
        if len(parts) == 1 and method == "PUT":
            return self._create(parts[0], json.loads(body))
        if len(parts) == 2 and parts[1] == "_mget" and method in ("GET", "POST"):
            return 200, self._mget(parts[0], json.loads(body))
        if len(parts) == 2 and parts[1] in ("_search", "_count") and method in ("GET", "POST"):
            index = self._index(parts[0])
            request = json.loads(body) if body else {}
            if parts[1] == "_search":
                return 200, self._search(parts[0], index, request)
            return 200, {"count": len(index.docs), "_shards": {"total": 1, "successful": 1, "failed": 0}}
        self.unexpected.append(f"{method} /{'/'.join(parts)}")
        raise BadRequest("unexpected_request", f"the fake does not serve {self.unexpected[-1]}")

    def _index(self, name: str) -> FakeIndex:
        if name not in self.indices:
            raise BadRequest("index_not_found_exception", f"no such index [{name}]", status=404)
        return self.indices[name]

    def _create(self, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        if name in self.indices:
            raise BadRequest("resource_already_exists_exception", f"index [{name}] already exists")
        properties = body["mappings"]["properties"]
        knn = any(spec["type"] == "knn_vector" for spec in properties.values())
        if knn and body.get("settings", {}).get("index", {}).get("knn") is not True:
            raise BadRequest("mapper_parsing_exception", "knn_vector needs index.knn: true")
        self.indices[name] = FakeIndex(body)
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    # _bulk

    def _bulk(self, body: bytes) -> tuple[int, Any]:
        if self.throttle_requests:
            self.throttle_requests -= 1
            raise BadRequest("es_rejected_execution_exception", "rejected execution (throttled)", status=429)
        throttled = self.throttle_documents > 0
        self.throttle_documents = max(0, self.throttle_documents - 1)
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        items: list[dict[str, Any]] = []
        position = 0
        while position < len(lines):
            [(op, meta)] = lines[position].items()
            position += 1
            source = None
            if op in ("index", "create", "update"):
                source = lines[position]
                position += 1
            result = {"_index": meta["_index"], "_id": meta["_id"]}
            result.update(self._bulk_item(op, meta, source, throttled))
            items.append({op: result})
        errors = any(item_result["status"] >= 300 for item in items for item_result in item.values())
        return 200, {"took": 1, "errors": errors, "items": items}

    def _bulk_item(
        self, op: str, meta: dict[str, Any], source: dict[str, Any] | None, throttled: bool
    ) -> dict[str, Any]:
        def error(status: int, error_type: str, reason: str) -> dict[str, Any]:
            return {"status": status, "error": {"type": error_type, "reason": reason}}

        index = self.indices.get(meta["_index"])
        if index is None:
            return error(404, "index_not_found_exception", f"no such index [{meta['_index']}]")
        doc_id = meta["_id"]
        if op == "delete":
            if index.docs.pop(doc_id, None) is None:
                return {"status": 404, "result": "not_found"}
            return {"status": 200, "result": "deleted"}
        if op != "index" or source is None:
            return error(400, "action_request_validation_exception", f"the fake does not do [{op}]")
        if throttled:
            return error(429, "es_rejected_execution_exception", "rejected execution of bulk shard")
        if doc_id in self.refuse_ids:
            return error(400, "mapper_parsing_exception", f"failed to parse document [{doc_id}]")
        properties = index.body["mappings"]["properties"]
        unknown = sorted(set(source) - set(properties))
        if unknown and index.body["mappings"].get("dynamic") == "strict":
            return error(400, "strict_dynamic_mapping_exception", f"dynamic introduction of {unknown}")
        for name, spec in properties.items():
            if spec["type"] == "knn_vector" and len(source.get(name) or []) != spec["dimension"]:
                return error(400, "mapper_parsing_exception", f"vector dimension mismatch for [{name}]")
        created = doc_id not in index.docs
        index.docs[doc_id] = source
        return {"status": 201 if created else 200, "result": "created" if created else "updated"}

    # _mget and _search

    @staticmethod
    def _source(doc: dict[str, Any], fields: Any) -> dict[str, Any]:
        if isinstance(fields, list):
            return {name: doc[name] for name in fields if name in doc}
        return doc

    def _mget(self, name: str, request: dict[str, Any]) -> dict[str, Any]:
        wanted = request.get("docs") or [{"_id": doc_id} for doc_id in request["ids"]]
        index = self.indices.get(name)
        docs: list[dict[str, Any]] = []
        for spec in wanted:
            answer: dict[str, Any] = {"_index": name, "_id": spec["_id"]}
            if index is None:  # as OpenSearch answers: an error per document, not a 404
                answer["error"] = {"type": "index_not_found_exception", "reason": f"no such index [{name}]"}
            elif spec["_id"] not in index.docs:
                answer["found"] = False
            else:
                source = self._source(index.docs[spec["_id"]], spec.get("_source", True))
                answer.update(found=True, _source=source)
            docs.append(answer)
        return {"docs": docs}

    def _search(self, name: str, index: FakeIndex, request: dict[str, Any]) -> dict[str, Any]:
        unknown = set(request) - {"size", "_source", "track_total_hits", "query"}
        if unknown:
            raise BadRequest("parsing_exception", f"the fake does not read {sorted(unknown)}")
        query = request.get("query", {"match_all": {}})
        if list(query) == ["knn"]:
            scored = self._knn(index, query["knn"])
        else:
            scored = [
                (score, doc_id)
                for doc_id, doc in index.docs.items()
                if (score := self._score(index, query, doc)) is not None
            ]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        hits = [
            {
                "_index": name,
                "_id": doc_id,
                "_score": score,
                "_source": self._source(index.docs[doc_id], request.get("_source", True)),
            }
            for score, doc_id in scored[: request.get("size", 10)]
        ]
        return {
            "took": 1,
            "timed_out": False,
            "hits": {"max_score": hits[0]["_score"] if hits else None, "hits": hits},
        }

    def _knn(self, index: FakeIndex, knn: dict[str, Any]) -> list[tuple[float, str]]:
        [(path, spec)] = knn.items()
        mapping = index.field(path)
        if mapping["type"] != "knn_vector" or len(spec["vector"]) != mapping["dimension"]:
            raise BadRequest("query_shard_exception", f"bad knn query on [{path}]")
        query = np.asarray(spec["vector"], dtype=np.float64)
        scored = []
        for doc_id, doc in index.docs.items():
            if "filter" in spec and not self._matches(index, spec["filter"], doc):
                continue
            stored = np.asarray(doc[path], dtype=np.float64)
            cosine = float(stored @ query / (np.linalg.norm(stored) * np.linalg.norm(query)))
            scored.append(((1 + cosine) / 2, doc_id))  # the lucene cosinesimil score
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return scored[: spec["k"]]

    def _matches(self, index: FakeIndex, clause: dict[str, Any], doc: dict[str, Any]) -> bool:
        return self._score(index, clause, doc) is not None

    def _score(self, index: FakeIndex, clause: dict[str, Any], doc: dict[str, Any]) -> float | None:
        """The clause's score for the document, or None when it does not match."""
        [(kind, spec)] = clause.items()
        if kind == "match_all":
            return 1.0
        if kind == "bool":
            unknown = set(spec) - {"must", "filter"}
            if unknown:
                raise BadRequest("parsing_exception", f"the fake does not read bool {sorted(unknown)}")
            if not all(self._matches(index, sub, doc) for sub in spec.get("filter", [])):
                return None
            total = 0.0
            for sub in spec.get("must", []):
                score = self._score(index, sub, doc)
                if score is None:
                    return None
                total += score
            return total
        if kind == "term":
            [(path, value)] = spec.items()
            return 0.0 if index.normalized(path, value) in index.exact_values(path, doc) else None
        if kind == "terms":
            [(path, values)] = spec.items()
            wanted = {index.normalized(path, value) for value in values}
            return 0.0 if wanted & set(index.exact_values(path, doc)) else None
        if kind == "range":
            [(path, bounds)] = spec.items()
            tests = {
                "gt": lambda v, b: v > b,
                "gte": lambda v, b: v >= b,
                "lt": lambda v, b: v < b,
                "lte": lambda v, b: v <= b,
            }
            values = index.exact_values(path, doc)
            ok = any(all(tests[op](value, bound) for op, bound in bounds.items()) for value in values)
            return 0.0 if ok else None
        if kind == "multi_match":
            return self._multi_match(index, spec, doc)
        raise BadRequest("parsing_exception", f"the fake does not read [{kind}]")

    @staticmethod
    def _multi_match(index: FakeIndex, spec: dict[str, Any], doc: dict[str, Any]) -> float | None:
        if spec.get("type", "best_fields") != "best_fields":
            raise BadRequest("parsing_exception", f"the fake does not read multi_match {spec['type']}")
        fuzzy = spec.get("fuzziness") == "AUTO"
        prefix = spec.get("prefix_length", 0)

        def similar(term: str, word: str) -> bool:
            if term == word:
                return True
            return (
                fuzzy
                and term[:prefix] == word[:prefix]
                and _edit_distance(term, word) <= _auto_fuzziness(term)
            )

        terms = _tokens(spec["query"])
        field_scores = []
        for field_spec in spec["fields"]:
            path, _, boost = field_spec.partition("^")
            if index.field(path)["type"] != "text":
                raise BadRequest("query_shard_exception", f"multi_match on non-text field [{path}]")
            words = set(_tokens(doc.get(path)))
            matched = sum(1 for term in terms if any(similar(term, word) for word in words))
            field_scores.append(float(boost or 1) * matched)
        best = max(field_scores, default=0.0)
        if best == 0:
            return None
        return best + float(spec.get("tie_breaker", 0.0)) * (sum(field_scores) - best)


def _handler(fake: FakeOpenSearch) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as urllib3 expects
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload = fake.handle(self.command, urlsplit(self.path).path, body)
            data = b"" if payload is None or self.command == "HEAD" else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeOpenSearch:
    return FakeOpenSearch()


@pytest.fixture
def client(fake: FakeOpenSearch) -> Iterator[OpenSearch]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    client = OpenSearch(hosts=[{"host": "127.0.0.1", "port": port}], use_ssl=False, timeout=5, max_retries=0)
    try:
        yield client
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoffs of the bulk helper, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(bulk_helpers, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


@pytest.fixture
def index(client: OpenSearch, fake: FakeOpenSearch, sleeps: list[float]) -> Iterator[OpenSearchIndex]:
    search_index = OpenSearchIndex(client, INDEX)
    search_index.ensure_index()
    yield search_index
    assert fake.unexpected == []


def _document(
    product_id: str,
    name: str,
    *,
    brand: str,
    category: str,
    creator_id: str,
    price: int,
    stock: int,
    rating: float | None,
    tags: list[str],
    description: str = "",
    ai_text: str = "",
) -> SearchDocument:
    return SearchDocument(
        id=product_id,
        name=name,
        brand=brand,
        category=category,
        creator_id=creator_id,
        price=price,
        currency="EUR",
        stock=stock,
        rating=rating,
        tags=tags,
        description=description,
        ai_text=ai_text,
        embedding_text=f"{name}. by {brand}",
        text_hash=f"hash-{product_id}",
    )


CATALOG = [
    _document(
        "p1",
        "Bullpadel Vertex 04",
        brand="Bullpadel",
        category="padel-rackets",
        creator_id="padelnest",
        price=24999,
        stock=3,
        rating=4.7,
        tags=["advanced", "power"],
        description="Diamond-shaped racket for attacking players.",
        ai_text="power smash advanced players",
    ),
    _document(
        "p2",
        "Head Evo Sanyo",
        brand="Head",
        category="padel-rackets",
        creator_id="padelnest",
        price=8999,
        stock=0,
        rating=4.1,
        tags=["beginner", "control"],
        description="Round racket, forgiving sweet spot.",
        ai_text="control beginner",
    ),
    _document(
        "p3",
        "Adidas Adipower Light",
        brand="Adidas",
        category="padel-rackets",
        creator_id="courtside",
        price=17999,
        stock=5,
        rating=None,
        tags=["control", "intermediate"],
        description="Teardrop racket, light and quick.",
    ),
    _document(
        "p4",
        "Babolat Jet Premura",
        brand="Babolat",
        category="padel-shoes",
        creator_id="courtside",
        price=11999,
        stock=10,
        rating=4.4,
        tags=["shoes"],
        description="Padel shoes with an omni sole.",
    ),
    _document(
        "p5",
        "Yirgacheffe espresso beans",
        brand="Café Núcleo",
        category="coffee-beans",
        creator_id="roastery",
        price=1899,
        stock=40,
        rating=4.8,
        tags=["light-roast"],
        description="Floral beans from Ethiopia; grind them fresh with a burr grinder.",
    ),
    _document(
        "p6",
        "Baratza Encore grinder",
        brand="Baratza",
        category="coffee-grinders",
        creator_id="roastery",
        price=14999,
        stock=2,
        rating=3.9,
        tags=["beginner"],
        description="Conical burr grinder for filter coffee.",
    ),
]


def _vectors(count: int, seed: int = 7) -> F32:
    matrix = np.random.default_rng(seed).standard_normal((count, DIMENSION))
    normalised: F32 = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    return normalised


VECTORS = _vectors(len(CATALOG))


@pytest.fixture
def stocked(index: OpenSearchIndex) -> OpenSearchIndex:
    index.upsert(CATALOG, VECTORS)
    return index


def _ids(results: list[ScoredId]) -> list[str]:
    return [result.id for result in results]


# --- the index ------------------------------------------------------------------------------------------


def test_the_adapter_is_a_search_index(client: OpenSearch) -> None:
    search_index: SearchIndex = OpenSearchIndex(client, INDEX)  # checked by mypy: the protocol is met
    assert search_index.count is not None


def test_ensure_index_creates_the_index_with_the_mapping_once(
    client: OpenSearch, fake: FakeOpenSearch
) -> None:
    search_index = OpenSearchIndex(client, INDEX)
    assert search_index.ensure_index() is True
    assert search_index.ensure_index() is False
    assert fake.requests.count(("PUT", f"/{INDEX}")) == 1
    assert fake.indices[INDEX].body == index_mapping()
    assert search_index.count() == 0


def test_ensure_index_when_another_caller_created_it_meanwhile(
    client: OpenSearch, fake: FakeOpenSearch
) -> None:
    assert OpenSearchIndex(client, INDEX).ensure_index() is True
    fake.hide_indices = True
    assert OpenSearchIndex(client, INDEX).ensure_index() is False


def test_upsert_stores_every_document_and_count_counts_them(
    stocked: OpenSearchIndex, fake: FakeOpenSearch
) -> None:
    assert stocked.count() == len(CATALOG)
    stored = fake.indices[INDEX].docs["p5"]
    assert stored["brand"] == "Café Núcleo"
    assert stored["rating"] == 4.8
    assert np.array_equal(np.asarray(stored["vector"], dtype=np.float32), VECTORS[4])


def test_upsert_replaces_a_document(stocked: OpenSearchIndex) -> None:
    renamed = CATALOG[1].model_copy(update={"name": "Head Zephyr Pro"})
    stocked.upsert([renamed], VECTORS[1:2])
    assert stocked.count() == len(CATALOG)
    assert _ids(stocked.keyword_search("zephyr", SearchFilters(), 5)) == ["p2"]
    assert stocked.keyword_search("sanyo", SearchFilters(), 5) == []


def test_upsert_of_nothing_sends_nothing(index: OpenSearchIndex, fake: FakeOpenSearch) -> None:
    before = len(fake.requests)
    index.upsert([], np.zeros((0, DIMENSION), dtype=np.float32))
    assert len(fake.requests) == before


def test_upsert_refuses_vectors_of_another_shape(index: OpenSearchIndex) -> None:
    with pytest.raises(ValueError, match="shape"):
        index.upsert(CATALOG[:2], _vectors(2)[:, :100])


# --- keyword search -------------------------------------------------------------------------------------


def test_keyword_search_finds_by_name(stocked: OpenSearchIndex) -> None:
    results = stocked.keyword_search("vertex", SearchFilters(), 5)
    assert _ids(results) == ["p1"]
    assert results[0].score > 0


def test_keyword_search_weights_the_name_above_the_description(stocked: OpenSearchIndex) -> None:
    # p6 has "grinder" in its name, p5 only in its description.
    assert _ids(stocked.keyword_search("grinder", SearchFilters(), 5)) == ["p6", "p5"]


def test_keyword_search_tolerates_a_typo(stocked: OpenSearchIndex) -> None:
    assert _ids(stocked.keyword_search("yirgachefe", SearchFilters(), 5)) == ["p5"]


def test_keyword_search_applies_the_filters(stocked: OpenSearchIndex) -> None:
    assert set(_ids(stocked.keyword_search("racket", SearchFilters(), 10))) == {"p1", "p2", "p3"}
    assert _ids(stocked.keyword_search("racket", SearchFilters(in_stock=True, max_price=20000), 10)) == ["p3"]
    assert _ids(stocked.keyword_search("padel", SearchFilters(category="padel-shoes"), 10)) == ["p4"]


def test_keyword_search_respects_k(stocked: OpenSearchIndex) -> None:
    assert len(stocked.keyword_search("racket", SearchFilters(), 2)) == 2
    assert stocked.keyword_search("racket", SearchFilters(), 0) == []
    assert stocked.keyword_search("   ", SearchFilters(), 5) == []


# --- vector search --------------------------------------------------------------------------------------


def _nearest(query: F32, allowed: set[str]) -> list[str]:
    cosines = VECTORS @ query
    order = np.argsort(-cosines, kind="stable")
    return [CATALOG[i].id for i in order if CATALOG[i].id in allowed]


def test_vector_search_ranks_the_nearest_first(stocked: OpenSearchIndex) -> None:
    query = VECTORS[2] + 0.5 * VECTORS[4]
    query = (query / np.linalg.norm(query)).astype(np.float32)
    results = stocked.vector_search(query, SearchFilters(), 10)
    assert _ids(results) == _nearest(query, {doc.id for doc in CATALOG})
    assert _ids(results)[:2] == ["p3", "p5"]
    # Scores are cosine similarities, as in the local index.
    assert results[0].score == pytest.approx(float(VECTORS[2] @ query), abs=1e-6)


def test_vector_search_of_a_stored_vector_scores_one(stocked: OpenSearchIndex) -> None:
    [best] = stocked.vector_search(VECTORS[3], SearchFilters(), 1)
    assert best.id == "p4"
    assert best.score == pytest.approx(1.0, abs=1e-6)


def test_vector_search_respects_k(stocked: OpenSearchIndex) -> None:
    assert len(stocked.vector_search(VECTORS[0], SearchFilters(), 3)) == 3
    assert stocked.vector_search(VECTORS[0], SearchFilters(), 0) == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(min_price=9000, max_price=18000), {"p3", "p4", "p6"}),
        (SearchFilters(min_price=24999), {"p1"}),
        (SearchFilters(in_stock=True), {"p1", "p3", "p4", "p5", "p6"}),
        (SearchFilters(in_stock=False), {"p2"}),
        (SearchFilters(min_rating=4.4), {"p1", "p4", "p5"}),  # p3 is unrated: excluded
        (SearchFilters(min_rating=0), {"p1", "p2", "p4", "p5", "p6"}),
        (SearchFilters(category="padel-rackets"), {"p1", "p2", "p3"}),
        (SearchFilters(brand="bullpadel"), {"p1"}),
        (SearchFilters(brand="CAFE NUCLEO"), {"p5"}),  # case and accents folded
        (SearchFilters(creator_id="courtside"), {"p3", "p4"}),
        (SearchFilters(tags=["control"]), {"p2", "p3"}),
        (SearchFilters(tags=["Control", "beginner"]), {"p2"}),  # every tag, case folded
        (SearchFilters(tags=["nothing-has-this"]), set()),
        (SearchFilters(category="padel-rackets", in_stock=True, max_price=20000), {"p3"}),
    ],
    # Stable ids (a set's repr is not, across pytest-xdist workers).
    ids=lambda value: repr(value) if isinstance(value, SearchFilters) else ",".join(sorted(value)),
)
def test_vector_search_respects_the_filters(
    stocked: OpenSearchIndex, filters: SearchFilters, expected: set[str]
) -> None:
    query = VECTORS[5]
    results = stocked.vector_search(query, filters, 10)
    assert _ids(results) == _nearest(query, expected)  # only those passing, nearest first


def test_vector_search_with_a_filter_still_returns_k_results(stocked: OpenSearchIndex) -> None:
    # The filter sits inside the knn clause: the k nearest *passing* documents, not the k nearest filtered.
    query = VECTORS[4]
    assert (
        _ids(stocked.vector_search(query, SearchFilters(category="padel-rackets"), 2))
        == _nearest(query, {"p1", "p2", "p3"})[:2]
    )


def test_vector_search_refuses_a_vector_of_another_dimension(stocked: OpenSearchIndex) -> None:
    with pytest.raises(ValueError, match="shape"):
        stocked.vector_search(VECTORS[0][:100], SearchFilters(), 3)


# --- delete and cached vectors --------------------------------------------------------------------------


def test_delete_removes_and_ignores_unknown_ids(stocked: OpenSearchIndex) -> None:
    stocked.delete(["p1", "p4", "never-indexed"])
    assert stocked.count() == len(CATALOG) - 2
    assert stocked.keyword_search("vertex", SearchFilters(), 5) == []
    assert "p4" not in _ids(stocked.vector_search(VECTORS[3], SearchFilters(), 10))
    stocked.delete([])
    stocked.delete(["p1"])  # again: nothing left to delete, no error


def test_cached_vectors_returns_vectors_only_for_unchanged_hashes(stocked: OpenSearchIndex) -> None:
    cached = stocked.cached_vectors(
        {"p1": "hash-p1", "p2": "hash-p2", "p3": "changed", "unknown": "hash-unknown"}
    )
    assert set(cached) == {"p1", "p2"}
    assert cached["p1"].dtype == np.float32
    assert np.array_equal(cached["p1"], VECTORS[0])
    assert np.array_equal(cached["p2"], VECTORS[1])
    assert stocked.cached_vectors({}) == {}


def test_cached_vectors_of_a_missing_index_are_none(client: OpenSearch) -> None:
    assert OpenSearchIndex(client, "absent").cached_vectors({"p1": "hash-p1"}) == {}


def test_cached_vectors_in_batches(index: OpenSearchIndex, fake: FakeOpenSearch) -> None:
    many = [CATALOG[0].model_copy(update={"id": f"q{i}", "text_hash": f"h{i}"}) for i in range(450)]
    vectors = _vectors(len(many), seed=3)
    index.upsert(many, vectors)
    before = fake.requests.count(("POST", f"/{INDEX}/_mget")) + fake.requests.count(
        ("GET", f"/{INDEX}/_mget")
    )
    cached = index.cached_vectors({document.id: document.text_hash for document in many})
    after = fake.requests.count(("POST", f"/{INDEX}/_mget")) + fake.requests.count(("GET", f"/{INDEX}/_mget"))
    assert len(cached) == 450
    assert after - before == 3
    assert np.array_equal(cached["q449"], vectors[449])


# --- throttling and refusals ----------------------------------------------------------------------------


def test_a_throttled_bulk_request_is_retried_after_a_backoff(
    index: OpenSearchIndex, fake: FakeOpenSearch, sleeps: list[float]
) -> None:
    fake.throttle_requests = 1
    index.upsert(CATALOG, VECTORS)
    assert index.count() == len(CATALOG)
    assert sleeps == [1]
    assert fake.requests.count(("POST", "/_bulk")) + fake.requests.count(("PUT", "/_bulk")) == 2


def test_throttled_documents_are_retried_after_a_backoff(
    index: OpenSearchIndex, fake: FakeOpenSearch, sleeps: list[float]
) -> None:
    fake.throttle_documents = 2
    index.upsert(CATALOG, VECTORS)
    assert index.count() == len(CATALOG)
    assert sleeps == [1, 2]  # exponential


def test_throttling_that_persists_fails_after_bounded_retries(
    index: OpenSearchIndex, fake: FakeOpenSearch, sleeps: list[float]
) -> None:
    fake.throttle_requests = 100
    with pytest.raises(IndexingFailed, match="throttled"):
        index.upsert(CATALOG, VECTORS)
    assert sleeps == [1, 2, 4, 8]


def test_documents_throttled_on_every_retry_fail(
    index: OpenSearchIndex, fake: FakeOpenSearch, sleeps: list[float]
) -> None:
    fake.throttle_documents = 100
    with pytest.raises(IndexingFailed) as raised:
        index.upsert(CATALOG[:2], VECTORS[:2])
    assert len(raised.value.errors) == 2
    assert sleeps == [1, 2, 4, 8]


def test_a_refused_document_raises_with_its_reason(index: OpenSearchIndex, fake: FakeOpenSearch) -> None:
    fake.refuse_ids = {"p2"}
    with pytest.raises(
        IndexingFailed, match=r"1 document\(s\) refused.*p2.*mapper_parsing_exception"
    ) as raised:
        index.upsert(CATALOG, VECTORS)
    [error] = raised.value.errors
    assert error["index"]["_id"] == "p2"
    assert index.count() == len(CATALOG) - 1  # the others went in


def test_upsert_creates_a_missing_index_with_its_mapping_first(
    client: OpenSearch, fake: FakeOpenSearch
) -> None:
    # Never leave it to the bulk request: OpenSearch would auto-create the index with a guessed mapping.
    fresh = OpenSearchIndex(client, "fresh")
    fresh.upsert(CATALOG[:1], VECTORS[:1])
    fresh.upsert(CATALOG[1:2], VECTORS[1:2])
    assert fake.indices["fresh"].body == index_mapping()
    assert fake.requests.count(("HEAD", "/fresh")) == 1  # checked once per adapter
    assert fresh.count() == 2
    assert fake.unexpected == []


def test_a_bulk_item_for_a_missing_index_raises(client: OpenSearch, fake: FakeOpenSearch) -> None:
    absent = OpenSearchIndex(client, "absent")
    absent.ensure_index()
    del fake.indices["absent"]  # deleted behind the adapter's back
    with pytest.raises(IndexingFailed, match="index_not_found_exception"):
        absent.upsert(CATALOG[:1], VECTORS[:1])


def test_searching_before_anything_was_indexed_finds_nothing(client: OpenSearch) -> None:
    # A fresh deployment answers searches before its first product is indexed: no hits, no 500.
    absent = OpenSearchIndex(client, "absent")
    assert absent.keyword_search("vertex", SearchFilters(), 5) == []
    assert absent.vector_search(VECTORS[0], SearchFilters(), 5) == []
    assert not client.indices.exists(index="absent")  # searching does not create it
