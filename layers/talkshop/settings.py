"""Runtime configuration read from the environment, the same on AWS and in the local runtime."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

TABLE_NAME_VARIABLE = "TALKSHOP_TABLE_NAME"
ADMIN_KEY_VARIABLE = "TALKSHOP_ADMIN_KEY"
ADMIN_KEY_SECRET_VARIABLE = "TALKSHOP_ADMIN_KEY_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
SEARCH_BACKEND_VARIABLE = "TALKSHOP_SEARCH_BACKEND"
SEARCH_INDEX_DIR_VARIABLE = "TALKSHOP_SEARCH_INDEX_DIR"
OPENSEARCH_INDEX_VARIABLE = "TALKSHOP_OPENSEARCH_INDEX"
OPENSEARCH_ENDPOINT_VARIABLE = "TALKSHOP_OPENSEARCH_ENDPOINT"
# Replicas of the index's shard: 0 on a one-node domain (else the cluster stays yellow), 1+ in production.
OPENSEARCH_REPLICAS_VARIABLE = "TALKSHOP_OPENSEARCH_REPLICAS"
LOCAL_SEARCH = "local"
OPENSEARCH = "opensearch"
# The embedding provider (talkshop.search.providers documents each variable).
EMBEDDINGS_VARIABLE = "TALKSHOP_EMBEDDINGS"
EMBEDDINGS_MODEL_VARIABLE = "TALKSHOP_EMBEDDINGS_MODEL"
EMBEDDINGS_DIMENSION_VARIABLE = "TALKSHOP_EMBEDDINGS_DIMENSION"
OPENAI_BASE_URL_VARIABLE = "OPENAI_BASE_URL"
# The EventBridge bus chat and catalog events are published to (the local runtime creates its own).
EVENT_BUS_NAME_VARIABLE = "TALKSHOP_EVENT_BUS_NAME"
# Where shoppers and agents reach the shop: the base of the links in product feeds and ACP answers.
PUBLIC_URL_VARIABLE = "TALKSHOP_PUBLIC_URL"
# Query embeddings multiply small matrices: OpenBLAS's thread pool (a spinning thread per core) made each
# one 30-40 times slower on a busy two-core machine (10 ms → 400 ms). Read when numpy loads, so the CLI
# and the search functions' environment set it.
SINGLE_THREADED_BLAS = {"OPENBLAS_NUM_THREADS": "1"}
SHOP_NAME_VARIABLE = "TALKSHOP_SHOP_NAME"
# Commerce: the table Powertools idempotency keeps request records in (Idempotency-Key), and the
# checkout state machine POST /api/checkout runs synchronously.
IDEMPOTENCY_TABLE_VARIABLE = "TALKSHOP_IDEMPOTENCY_TABLE"
CHECKOUT_STATE_MACHINE_VARIABLE = "TALKSHOP_CHECKOUT_STATE_MACHINE_ARN"
MINILM_EMBEDDINGS = "minilm"
OPENAI_EMBEDDINGS = "openai"
BEDROCK_EMBEDDINGS = "bedrock"


@dataclass(frozen=True)
class Settings:
    table_name: str
    admin_key: str | None
    admin_key_secret_arn: str | None
    # LOCAL_SEARCH: the in-process index saved in search_index_dir; OPENSEARCH: the AWS domain.
    search_backend: str = OPENSEARCH
    search_index_dir: str = ".talkshop/search"
    opensearch_index: str = "products"
    opensearch_replicas: int = 1
    # MINILM_EMBEDDINGS (the built-in model), OPENAI_EMBEDDINGS or BEDROCK_EMBEDDINGS; None for model and
    # dimension means the provider's default. The OpenAI key is read by the SDK from OPENAI_API_KEY.
    embeddings: str = MINILM_EMBEDDINGS
    embeddings_model: str | None = None
    embeddings_dimension: int | None = None
    openai_base_url: str | None = None
    event_bus_name: str = "default"
    idempotency_table: str = "talkshop-idempotency"
    checkout_state_machine_arn: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    shop_name: str = "Talkshop"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        table_name=os.environ.get(TABLE_NAME_VARIABLE, "talkshop"),
        admin_key=os.environ.get(ADMIN_KEY_VARIABLE) or None,
        admin_key_secret_arn=os.environ.get(ADMIN_KEY_SECRET_VARIABLE) or None,
        search_backend=os.environ.get(SEARCH_BACKEND_VARIABLE, OPENSEARCH),
        search_index_dir=os.environ.get(SEARCH_INDEX_DIR_VARIABLE, ".talkshop/search"),
        opensearch_index=os.environ.get(OPENSEARCH_INDEX_VARIABLE, "products"),
        opensearch_replicas=int(os.environ.get(OPENSEARCH_REPLICAS_VARIABLE, "1")),
        embeddings=os.environ.get(EMBEDDINGS_VARIABLE, "").strip().lower() or MINILM_EMBEDDINGS,
        embeddings_model=os.environ.get(EMBEDDINGS_MODEL_VARIABLE, "").strip() or None,
        embeddings_dimension=_optional_int(EMBEDDINGS_DIMENSION_VARIABLE),
        openai_base_url=os.environ.get(OPENAI_BASE_URL_VARIABLE, "").strip() or None,
        event_bus_name=os.environ.get(EVENT_BUS_NAME_VARIABLE, "").strip() or "default",
        idempotency_table=os.environ.get(IDEMPOTENCY_TABLE_VARIABLE, "").strip() or "talkshop-idempotency",
        checkout_state_machine_arn=os.environ.get(CHECKOUT_STATE_MACHINE_VARIABLE, "").strip() or None,
        public_url=(os.environ.get(PUBLIC_URL_VARIABLE, "").strip() or "http://127.0.0.1:8000").rstrip("/"),
        shop_name=os.environ.get(SHOP_NAME_VARIABLE, "").strip() or "Talkshop",
    )


def _optional_int(variable: str) -> int | None:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{variable} must be a whole number, got {raw!r}") from None
