"""The route table: the single definition of which Lambda function serves which API route.

The CDK app wires API Gateway from it and the local runtime dispatches from it, so the two can never
disagree. Each function is a route group with its own least-privilege table access.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TableAccess(StrEnum):
    READ = "read"
    READ_WRITE = "read_write"


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function: its code folder under functions/ and what it may do."""

    name: str
    description: str
    table_access: TableAccess
    needs_admin_key: bool = False
    # Needs the search layer (embedding model, numpy) and access to the search index.
    uses_search: bool = False
    # Calls an LLM provider when one is configured (its API key comes from Secrets Manager).
    uses_llm: bool = False
    # Charges through the payment provider: the payments layer (stripe) and the provider's secret key.
    uses_payments: bool = False
    # Keeps Idempotency-Key records (Powertools idempotency) in the idempotency table.
    uses_idempotency: bool = False
    memory_mb: int = 512
    timeout_s: int = 10

    @property
    def module(self) -> str:
        """Import path of the handler module in the local runtime (on Lambda it is `handler`)."""
        return f"functions.{self.name}.handler"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: FunctionSpec


CATALOG_READ = FunctionSpec(
    name="catalog_read",
    description="Lists and reads products",
    table_access=TableAccess.READ,
    needs_admin_key=True,  # the admin may read drafts
)
CATALOG_WRITE = FunctionSpec(
    name="catalog_write",
    description="Creates, updates and deletes products for authenticated creators",
    table_access=TableAccess.READ_WRITE,
    needs_admin_key=True,
)

SEARCH = FunctionSpec(
    name="search",
    description="Hybrid keyword + semantic product search for chats",
    table_access=TableAccess.READ,
    uses_search=True,
    memory_mb=1024,  # numpy inference of the query embedding: more memory is more CPU on Lambda
)

CHAT_SESSIONS = FunctionSpec(
    name="chat_sessions",
    description="Creates, reads and lists chat sessions; records preference corrections and feedback",
    table_access=TableAccess.READ_WRITE,
    needs_admin_key=True,  # the admin may read any shopper's chats
    uses_idempotency=True,
)
CHAT_MESSAGE = FunctionSpec(
    name="chat_message",
    description="Answers a shopper's chat message (rules engine, or an LLM through tools over the catalog)",
    table_access=TableAccess.READ_WRITE,
    needs_admin_key=True,
    uses_search=True,
    uses_llm=True,
    memory_mb=1024,
    timeout_s=29,  # API Gateway's own limit: a slow model turn ends as a clear error, not a hang
)

COMMERCE = FunctionSpec(
    name="commerce",
    description="Carts, checkout (through the checkout state machine), orders and discount codes",
    table_access=TableAccess.READ_WRITE,
    needs_admin_key=True,
    uses_idempotency=True,
    timeout_s=29,
)
ACP = FunctionSpec(
    name="acp",
    description="The merchant side of the Agentic Commerce Protocol for external agents, and product feeds",
    table_access=TableAccess.READ_WRITE,
    needs_admin_key=True,
    uses_idempotency=True,
    timeout_s=29,
)
ADMIN = FunctionSpec(
    name="admin",
    description="Admin operations: agent and creator keys, ranking experiments, learned ranking weights",
    table_access=TableAccess.READ_WRITE,
    needs_admin_key=True,
    uses_idempotency=True,
)

WEBHOOKS = FunctionSpec(
    name="webhooks",
    description="Registers webhook endpoints of creators and agents; lists and redelivers deliveries",
    table_access=TableAccess.READ_WRITE,
    needs_admin_key=True,
    uses_idempotency=True,
)

# A shopper's own data (GDPR): export, erasure, analytics opt-out; shopper tokens only.
PRIVACY = FunctionSpec(
    name="privacy",
    description="A shopper's own data: export it, erase it, opt out of analytics",
    table_access=TableAccess.READ_WRITE,
    timeout_s=29,  # an erasure of a long-time shopper walks all their chats, carts and orders
)

# The dashboards' JSON APIs (and their CSV export): creator and admin keys, or the signed-in cookie.
ANALYTICS = FunctionSpec(
    name="analytics",
    description="Conversational metrics of a creator and of the platform, as JSON or CSV",
    table_access=TableAccess.READ,
    needs_admin_key=True,
    timeout_s=29,  # a year's range reads a year of metric items and the chats of the common questions
)

# The web client's pages, rendered on the server so they work without JavaScript (the no-JS chat
# answers a posted form with the advisor's reply, hence search and LLM access, and checks out).
WEB = FunctionSpec(
    name="web",
    description="Renders the web client's pages: chat, product details, storefront, checkout, history",
    table_access=TableAccess.READ_WRITE,
    uses_search=True,
    uses_llm=True,
    uses_idempotency=True,
    memory_mb=1024,
    timeout_s=29,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    CATALOG_READ,
    CATALOG_WRITE,
    SEARCH,
    CHAT_SESSIONS,
    CHAT_MESSAGE,
    COMMERCE,
    ACP,
    ADMIN,
    WEBHOOKS,
    PRIVACY,
    ANALYTICS,
    WEB,
)

# Not behind the API: keeps the search index in sync from the table's stream.
SEARCH_INDEXER = FunctionSpec(
    name="search_indexer",
    description="Indexes product changes from the DynamoDB stream into the search index",
    table_access=TableAccess.READ,
    uses_search=True,
    memory_mb=2048,
    timeout_s=120,
)

# Not behind the API: publishes the events the table records to EventBridge (a transactional outbox:
# an event is written with the change it describes, and the stream guarantees it is published).
EVENT_PUBLISHER = FunctionSpec(
    name="event_publisher",
    description="Publishes recorded events from the DynamoDB stream to the EventBridge bus",
    table_access=TableAccess.READ,
    timeout_s=60,
)
# Not behind the API: every few minutes, marks chats idle for 30 minutes as abandoned.
CHAT_SWEEPER = FunctionSpec(
    name="chat_sweeper",
    description="Marks chat sessions idle for 30 minutes as abandoned; settles checkouts left unfinished",
    table_access=TableAccess.READ_WRITE,
    uses_payments=True,  # voids the holds and captures the orders of checkouts that died midway
    timeout_s=120,
)

# Not behind the API: an EventBridge rule (every event of source "talkshop") feeds it; it counts each
# event once into the analytics metric items (talkshop.analytics.aggregate).
ANALYTICS_CONSUMER = FunctionSpec(
    name="analytics_consumer",
    description="Aggregates the events on the bus into analytics metric items, each event once",
    table_access=TableAccess.READ_WRITE,
    timeout_s=30,
)

# Not behind the API: the steps of statemachines/checkout.asl.json and webhook_delivery.asl.json.
CHECKOUT_STEPS = FunctionSpec(
    name="checkout_steps",
    description="Runs one step of the checkout state machine (validate, reserve, price, pay, order...)",
    table_access=TableAccess.READ_WRITE,
    uses_payments=True,
    timeout_s=20,
)

WEBHOOK_STEPS = FunctionSpec(
    name="webhook_steps",
    description="Runs one step of the webhook delivery state machine (sign and deliver, dead-letter)",
    table_access=TableAccess.READ_WRITE,
    timeout_s=20,
)

ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/products", CATALOG_READ),
    Route("GET", "/api/products/{id}", CATALOG_READ),
    Route("POST", "/api/products", CATALOG_WRITE),
    Route("PUT", "/api/products/{id}", CATALOG_WRITE),
    Route("DELETE", "/api/products/{id}", CATALOG_WRITE),
    Route("POST", "/api/chat/search", SEARCH),
    Route("POST", "/api/chat/session", CHAT_SESSIONS),
    Route("GET", "/api/chat/session/{id}", CHAT_SESSIONS),
    Route("DELETE", "/api/chat/session/{id}", CHAT_SESSIONS),
    Route("GET", "/api/chat/sessions", CHAT_SESSIONS),
    Route("PUT", "/api/chat/session/{id}/preferences", CHAT_SESSIONS),
    Route("POST", "/api/chat/session/{id}/feedback", CHAT_SESSIONS),
    Route("POST", "/api/chat/message", CHAT_MESSAGE),
    Route("POST", "/api/chat/message/stream", CHAT_MESSAGE),
    Route("POST", "/api/carts", COMMERCE),
    Route("GET", "/api/carts/{id}", COMMERCE),
    Route("POST", "/api/carts/{id}/lines", COMMERCE),
    Route("PUT", "/api/carts/{id}/lines/{productId}", COMMERCE),
    Route("DELETE", "/api/carts/{id}/lines/{productId}", COMMERCE),
    Route("POST", "/api/checkout", COMMERCE),
    Route("POST", "/api/chat/checkout", COMMERCE),
    Route("GET", "/api/orders", COMMERCE),
    Route("GET", "/api/orders/{id}", COMMERCE),
    Route("POST", "/api/discounts", COMMERCE),
    Route("GET", "/api/discounts", COMMERCE),
    Route("POST", "/acp/checkout_sessions", ACP),
    Route("POST", "/acp/checkout_sessions/{id}", ACP),
    Route("GET", "/acp/checkout_sessions/{id}", ACP),
    Route("POST", "/acp/checkout_sessions/{id}/complete", ACP),
    Route("POST", "/acp/checkout_sessions/{id}/cancel", ACP),
    Route("GET", "/api/feed/products.jsonl", ACP),
    Route("GET", "/api/feed/openai.csv", ACP),
    Route("POST", "/api/admin/agent-keys", ADMIN),
    Route("DELETE", "/api/admin/agent-keys/{id}", ADMIN),
    Route("POST", "/api/admin/creators", ADMIN),
    Route("POST", "/api/admin/creators/{id}/keys", ADMIN),
    Route("DELETE", "/api/admin/creators/{id}/keys", ADMIN),
    Route("POST", "/api/admin/experiments", ADMIN),
    Route("GET", "/api/admin/experiments", ADMIN),
    Route("GET", "/api/admin/experiments/{id}", ADMIN),
    Route("POST", "/api/admin/experiments/{id}/stop", ADMIN),
    Route("GET", "/api/admin/experiments/{id}/report", ADMIN),
    Route("GET", "/api/admin/ranking-weights", ADMIN),
    Route("POST", "/api/admin/ranking-weights/learn", ADMIN),
    Route("POST", "/api/admin/ranking-weights/rollback", ADMIN),
    Route("POST", "/api/webhooks", WEBHOOKS),
    Route("GET", "/api/webhooks", WEBHOOKS),
    Route("DELETE", "/api/webhooks/{id}", WEBHOOKS),
    Route("GET", "/api/webhooks/{id}/deliveries", WEBHOOKS),
    Route("POST", "/api/webhooks/deliveries/{id}/redeliver", WEBHOOKS),
    Route("GET", "/api/me/export", PRIVACY),
    Route("DELETE", "/api/me", PRIVACY),
    Route("GET", "/api/me/analytics", PRIVACY),
    Route("PUT", "/api/me/analytics", PRIVACY),
    Route("GET", "/api/analytics/creator", ANALYTICS),
    Route("GET", "/api/analytics/admin", ANALYTICS),
    Route("GET", "/", WEB),
    Route("GET", "/chat", WEB),
    Route("POST", "/chat", WEB),
    Route("POST", "/chat/new", WEB),
    Route("POST", "/chat/preferences", WEB),
    Route("POST", "/chat/buy", WEB),
    Route("GET", "/products/{id}", WEB),
    Route("GET", "/store", WEB),
    Route("POST", "/store/buy", WEB),
    Route("GET", "/checkout/{id}", WEB),
    Route("POST", "/checkout/{id}", WEB),
    Route("POST", "/checkout/{id}/discount", WEB),
    Route("POST", "/checkout/{id}/quantity", WEB),
    Route("GET", "/orders/{id}", WEB),
    Route("GET", "/history", WEB),
    Route("GET", "/history/{id}/export.pdf", WEB),
    Route("POST", "/history/{id}/delete", WEB),
    Route("GET", "/history/erase", WEB),
    Route("POST", "/history/erase", WEB),
    Route("GET", "/login", WEB),
    Route("POST", "/login", WEB),
    Route("POST", "/logout", WEB),
    Route("GET", "/dashboard/conversational-metrics", WEB),
    Route("GET", "/admin/conversational-commerce", WEB),
)
