"""The OpenSearch request bodies, checked against the index mapping without a cluster."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from opensearchpy import RequestsAWSV4SignerAuth, RequestsHttpConnection

from talkshop.search.model import SearchDocument, SearchFilters
from talkshop.search.opensearch import (
    ANALYZER,
    KEYWORD_FIELDS,
    NORMALIZER,
    bulk_actions,
    client_from_environment,
    filter_clauses,
    index_mapping,
    keyword_query_body,
    vector_query_body,
)

DIMENSION = 384
EXACT_TYPES = {"keyword", "long", "integer", "short", "byte", "float", "double", "boolean", "date"}
ALL_FILTERS = SearchFilters(
    min_price=1000,
    max_price=20000,
    in_stock=True,
    min_rating=4.0,
    category="padel-rackets",
    brand="Bullpadel",
    creator_id="padelnest",
    tags=["control", "beginner"],
)


def _document(product_id: str = "prd_1", rating: float | None = 4.5) -> SearchDocument:
    return SearchDocument(
        id=product_id,
        name="Vertex 04",
        brand="Bullpadel",
        category="padel-rackets",
        creator_id="padelnest",
        price=24999,
        currency="EUR",
        stock=3,
        rating=rating,
        tags=["advanced", "power"],
        description="A diamond-shaped racket for attacking players.",
        ai_text="power smash advanced",
        embedding_text="Vertex 04. by Bullpadel. padel rackets",
        text_hash="ab" * 32,
    )


def _unit_vector(seed: int = 0, dimension: int = DIMENSION) -> np.ndarray[Any, np.dtype[np.float32]]:
    vector = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


# --- a checker: every field a body references exists in the mapping, with a type its clause can use ----


def _field(mapping: dict[str, Any], path: str) -> dict[str, Any]:
    """The mapping of a field path: 'price', or 'brand.keyword' for a multi-field."""
    head, _, sub = path.partition(".")
    properties = mapping["mappings"]["properties"]
    assert head in properties, f"{path!r} is not in the mapping"
    field: dict[str, Any] = properties[head]
    if sub:
        assert sub in field.get("fields", {}), f"{path!r} is not a sub-field in the mapping"
        field = field["fields"][sub]
    return field


def _searchable(field: dict[str, Any], path: str, types: set[str]) -> None:
    assert field["type"] in types, f"{path!r} is {field['type']}, not one of {sorted(types)}"
    assert field.get("index", True), f"{path!r} is not indexed"


def check_body(body: Any, mapping: dict[str, Any]) -> set[str]:
    """Walk a request body; assert each referenced field fits its clause; return the fields referenced."""
    referenced: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key == "multi_match":
                for spec in value["fields"]:
                    path = spec.split("^")[0]
                    _searchable(_field(mapping, path), path, {"text"})
                    referenced.add(path)
            elif key in ("match", "match_phrase"):
                for path in value:
                    _searchable(_field(mapping, path), path, {"text"})
                    referenced.add(path)
            elif key in ("term", "terms", "range"):
                for path in value:
                    _searchable(_field(mapping, path), path, EXACT_TYPES)
                    referenced.add(path)
            elif key == "knn":
                for path, spec in value.items():
                    field = _field(mapping, path)
                    assert field["type"] == "knn_vector", f"{path!r} is not a knn_vector"
                    assert len(spec["vector"]) == field["dimension"], "query vector of another dimension"
                    assert all(isinstance(x, float) for x in spec["vector"])
                    referenced.add(path)
                    walk(spec.get("filter"))
            elif key == "_source" and isinstance(value, list):
                for path in value:
                    _field(mapping, path)
                    referenced.add(path)
            else:
                walk(value)

    walk(body)
    return referenced


def test_checker_rejects_what_the_mapping_cannot_answer() -> None:
    mapping = index_mapping()
    with pytest.raises(AssertionError, match="not one of"):
        check_body({"query": {"term": {"name": "x"}}}, mapping)  # a term on a text field
    with pytest.raises(AssertionError, match="not one of"):
        check_body({"query": {"match": {"price": "x"}}}, mapping)
    with pytest.raises(AssertionError, match="not in the mapping"):
        check_body({"query": {"range": {"weight": {"gt": 1}}}}, mapping)
    with pytest.raises(AssertionError, match="not indexed"):
        check_body({"query": {"term": {"text_hash": "x"}}}, mapping)
    with pytest.raises(AssertionError, match="another dimension"):
        check_body({"query": {"knn": {"vector": {"vector": [0.5] * 3, "k": 1}}}}, mapping)


def test_keyword_query_references_only_fields_the_mapping_can_answer() -> None:
    referenced = check_body(keyword_query_body("padel racket", ALL_FILTERS, 10), index_mapping())
    assert referenced == {
        *(spec.split("^")[0] for spec in KEYWORD_FIELDS),
        "id",
        "price",
        "stock",
        "rating",
        "category.keyword",
        "brand.keyword",
        "creator_id",
        "tags",
    }


def test_vector_query_references_only_fields_the_mapping_can_answer() -> None:
    body = vector_query_body(_unit_vector(), ALL_FILTERS, 10)
    referenced = check_body(body, index_mapping())
    assert "vector" in referenced
    assert {
        "price",
        "stock",
        "rating",
        "category.keyword",
        "brand.keyword",
        "creator_id",
        "tags",
    } <= referenced


def test_vector_query_fails_the_checker_against_a_mapping_of_another_dimension() -> None:
    with pytest.raises(AssertionError, match="another dimension"):
        check_body(vector_query_body(_unit_vector(), SearchFilters(), 5), index_mapping(dimension=768))


# --- the mapping ------------------------------------------------------------------------------------------


def test_mapping_turns_knn_on_and_indexes_the_vector_with_lucene_hnsw_cosine() -> None:
    mapping = index_mapping()
    assert mapping["settings"]["index"]["knn"] is True
    vector = mapping["mappings"]["properties"]["vector"]
    assert vector["type"] == "knn_vector"
    assert vector["dimension"] == DIMENSION
    assert vector["method"]["name"] == "hnsw"
    assert vector["method"]["engine"] == "lucene"  # filters inside the knn clause
    assert vector["method"]["space_type"] == "cosinesimil"
    assert index_mapping(dimension=8)["mappings"]["properties"]["vector"]["dimension"] == 8


def test_mapping_names_every_document_field_and_is_strict() -> None:
    mappings = index_mapping()["mappings"]
    assert mappings["dynamic"] == "strict"
    assert set(mappings["properties"]) == {*SearchDocument.model_fields, "vector"}


def test_mapping_types_of_the_filter_fields() -> None:
    properties = index_mapping()["mappings"]["properties"]
    assert {name: properties[name]["type"] for name in ("id", "creator_id", "currency", "tags")} == {
        "id": "keyword",
        "creator_id": "keyword",
        "currency": "keyword",
        "tags": "keyword",
    }
    assert properties["price"]["type"] == "long"
    assert properties["stock"]["type"] == "integer"
    assert properties["rating"]["type"] == "float"
    for name in ("brand", "category"):
        assert properties[name]["fields"]["keyword"]["type"] == "keyword"
        assert properties[name]["fields"]["keyword"]["normalizer"] == NORMALIZER
    assert properties["tags"]["normalizer"] == NORMALIZER


def test_text_fields_use_the_english_analyzer_the_settings_define() -> None:
    mapping = index_mapping()
    analysis = mapping["settings"]["analysis"]
    analyzer = analysis["analyzer"][ANALYZER]
    assert analyzer["tokenizer"] == "standard"
    assert {"lowercase", "asciifolding", "english_stemmer", "english_stop"} <= set(analyzer["filter"])
    for name in analyzer["filter"]:
        assert name in ("lowercase", "asciifolding") or name in analysis["filter"]
    assert analysis["normalizer"][NORMALIZER]["filter"] == ["lowercase", "asciifolding"]
    properties = mapping["mappings"]["properties"]
    for name in ("name", "brand", "category", "description", "ai_text"):
        assert properties[name] == {**properties[name], "type": "text", "analyzer": ANALYZER}


def test_keyword_fields_of_a_document_are_the_fields_searched() -> None:
    searched = {spec.split("^")[0] for spec in KEYWORD_FIELDS}
    assert searched == set(_document().keyword_fields)
    boosts = {name: float(boost or 1) for name, _, boost in (spec.partition("^") for spec in KEYWORD_FIELDS)}
    assert max(boosts, key=lambda name: boosts[name]) == "name"


def test_field_weights_are_those_of_the_local_index() -> None:
    """Both adapters weigh the keyword fields alike, so that local and AWS rankings agree."""
    from talkshop.search.local_index import FIELD_WEIGHTS

    boosts = {name: float(boost or 1) for name, _, boost in (spec.partition("^") for spec in KEYWORD_FIELDS)}
    assert boosts == FIELD_WEIGHTS


# --- filter clauses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(), []),
        (SearchFilters(min_price=1000), [{"range": {"price": {"gte": 1000}}}]),
        (SearchFilters(max_price=5000), [{"range": {"price": {"lte": 5000}}}]),
        (SearchFilters(min_price=0, max_price=5000), [{"range": {"price": {"gte": 0, "lte": 5000}}}]),
        (SearchFilters(in_stock=True), [{"range": {"stock": {"gt": 0}}}]),
        (SearchFilters(in_stock=False), [{"range": {"stock": {"lte": 0}}}]),
        (SearchFilters(min_rating=4.5), [{"range": {"rating": {"gte": 4.5}}}]),
        (SearchFilters(min_rating=0), [{"range": {"rating": {"gte": 0}}}]),  # still excludes unrated
        (SearchFilters(category="padel-rackets"), [{"term": {"category.keyword": "padel-rackets"}}]),
        (SearchFilters(brand="Bullpadel"), [{"term": {"brand.keyword": "Bullpadel"}}]),
        (SearchFilters(creator_id="padelnest"), [{"term": {"creator_id": "padelnest"}}]),
        (SearchFilters(tags=["control"]), [{"term": {"tags": "control"}}]),
        (
            SearchFilters(tags=["control", "beginner", "control"]),
            [{"term": {"tags": "control"}}, {"term": {"tags": "beginner"}}],
        ),
    ],
    ids=lambda value: repr(value) if isinstance(value, SearchFilters) else "",
)
def test_filter_clauses(filters: SearchFilters, expected: list[dict[str, Any]]) -> None:
    assert filter_clauses(filters) == expected


def test_filter_clauses_of_every_filter_together() -> None:
    assert filter_clauses(ALL_FILTERS) == [
        {"range": {"price": {"gte": 1000, "lte": 20000}}},
        {"range": {"stock": {"gt": 0}}},
        {"range": {"rating": {"gte": 4.0}}},
        {"term": {"category.keyword": "padel-rackets"}},
        {"term": {"brand.keyword": "Bullpadel"}},
        {"term": {"creator_id": "padelnest"}},
        {"term": {"tags": "control"}},
        {"term": {"tags": "beginner"}},
    ]


def test_every_search_filter_has_a_clause() -> None:
    """A SearchFilters field added later must not be dropped silently by the adapter."""
    everything = filter_clauses(ALL_FILTERS)
    for name in SearchFilters.model_fields:
        without = ALL_FILTERS.model_copy(update={name: [] if name == "tags" else None})
        assert filter_clauses(without) != everything, f"{name} adds no clause"


# --- query bodies -----------------------------------------------------------------------------------------


def test_keyword_query_body() -> None:
    body = keyword_query_body("bulpadel vertex", ALL_FILTERS, 7)
    assert body["size"] == 7
    assert body["_source"] == ["id"]
    query = body["query"]["bool"]
    assert query["filter"] == filter_clauses(ALL_FILTERS)
    [must] = query["must"]
    multi_match = must["multi_match"]
    assert multi_match["query"] == "bulpadel vertex"
    assert multi_match["type"] in ("best_fields", "most_fields")  # cross_fields refuses fuzziness
    assert multi_match["fuzziness"] == "AUTO"
    assert multi_match["fields"] == ["name^3", "brand^2", "category^2", "ai_text^1.5", "description"]


def test_keyword_query_body_without_filters_has_an_empty_filter() -> None:
    assert keyword_query_body("x", SearchFilters(), 3)["query"]["bool"]["filter"] == []


def test_vector_query_body_puts_the_filter_inside_the_knn_clause() -> None:
    vector = _unit_vector()
    body = vector_query_body(vector, ALL_FILTERS, 12)
    assert set(body) == {"size", "_source", "track_total_hits", "query"}  # no post_filter
    assert body["size"] == 12
    assert body["_source"] == ["id"]
    assert list(body["query"]) == ["knn"]  # not wrapped in a bool that would post-filter
    knn = body["query"]["knn"]["vector"]
    assert knn["k"] == 12
    assert knn["filter"] == {"bool": {"filter": filter_clauses(ALL_FILTERS)}}
    assert knn["vector"] == [float(x) for x in vector]
    assert all(type(x) is float for x in knn["vector"])


def test_vector_query_body_without_filters_has_no_filter() -> None:
    body = vector_query_body(_unit_vector(), SearchFilters(), 5)
    assert body["size"] == 5
    assert body["query"]["knn"]["vector"]["k"] == 5
    assert "filter" not in body["query"]["knn"]["vector"]


# --- bulk actions -----------------------------------------------------------------------------------------


def test_bulk_actions_carry_the_id_the_vector_and_every_document_field() -> None:
    documents = [_document("prd_1"), _document("prd_2", rating=None)]
    vectors = np.stack([_unit_vector(1), _unit_vector(2)])
    actions = bulk_actions(documents, vectors, "products")
    assert len(actions) == 2
    for action, document, vector in zip(actions, documents, vectors, strict=True):
        assert action["_op_type"] == "index"
        assert action["_index"] == "products"
        assert action["_id"] == document.id
        source = action["_source"]
        assert set(source) == {*SearchDocument.model_fields, "vector"}
        dumped = document.model_dump(mode="json")
        assert {name: source[name] for name in SearchDocument.model_fields} == dumped
        assert all(type(x) is float for x in source["vector"])
        assert np.array_equal(np.asarray(source["vector"], dtype=np.float32), vector)
    assert actions[1]["_source"]["rating"] is None  # null: a missing value, never matched by min_rating


def test_bulk_actions_refuse_vectors_that_do_not_match_the_documents() -> None:
    with pytest.raises(ValueError, match="2 documents"):
        bulk_actions([_document("a"), _document("b")], np.stack([_unit_vector()]), "products")
    with pytest.raises(ValueError, match="1 documents"):
        bulk_actions([_document("a")], _unit_vector(), "products")


def test_bulk_actions_of_no_documents() -> None:
    assert bulk_actions([], np.zeros((0, DIMENSION), dtype=np.float32), "products") == []


# --- the AWS client (built only: nothing is sent) ---------------------------------------------------------


def test_client_from_environment_signs_for_the_domain_over_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TALKSHOP_OPENSEARCH_ENDPOINT", "https://search-talkshop-abc.eu-west-1.es.amazonaws.com/"
    )
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = client_from_environment()
    [host] = client.transport.hosts
    assert host["host"] == "search-talkshop-abc.eu-west-1.es.amazonaws.com"
    assert host["port"] == 443
    assert client.transport.connection_class is RequestsHttpConnection
    [connection] = client.transport.connection_pool.connections
    assert connection.use_ssl
    assert connection.host == "https://search-talkshop-abc.eu-west-1.es.amazonaws.com:443"
    assert isinstance(connection.session.auth, RequestsAWSV4SignerAuth)
    assert connection.session.auth.signer.region == "eu-west-1"
    assert connection.session.auth.signer.service == "es"
    assert connection.timeout == 10


def test_the_index_has_one_shard_and_the_configured_replicas() -> None:
    assert index_mapping(replicas=0)["settings"]["index"]["number_of_replicas"] == 0
    settings = index_mapping()["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == (1, 1)
