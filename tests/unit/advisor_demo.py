"""The demo catalog behind a real search service, and a chat driver, for the advisor engine's tests.

The index holds the shipped demo vectors, so building it embeds nothing; queries are embedded by the
built-in MiniLM model, as in the local runtime.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from talkshop.advisor.catalog import LiveCatalog, ProductsInMemory
from talkshop.advisor.engine import RulesAdvisor
from talkshop.advisor.model import (
    AdvisorReply,
    ChatMessage,
    ConversationSession,
    Role,
    ShopperMemory,
    TurnContext,
    final_reply,
)
from talkshop.catalog.model import Product
from talkshop.search.demo_vectors import demo_products, load_demo_vectors
from talkshop.search.embeddings import MiniLMEmbedder
from talkshop.search.indexer import SearchIndexer
from talkshop.search.local_index import LocalSearchIndex
from talkshop.search.service import SearchService

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def demo_catalog(products: Sequence[Product]) -> LiveCatalog:
    embedder = MiniLMEmbedder()
    index = LocalSearchIndex(embedder.dimension)
    SearchIndexer(index, embedder, load_demo_vectors()).index_products(products)
    return LiveCatalog(SearchService(index, embedder), ProductsInMemory(products))


def products_by_id() -> dict[str, Product]:
    return {product.id: product for product in demo_products()}


class Chat:
    """One conversation driven the way the chat service does: the reply's state becomes the session's."""

    def __init__(self, advisor: RulesAdvisor, memory: ShopperMemory | None = None) -> None:
        self.advisor = advisor
        self.memory = memory
        self.session = ConversationSession(
            id="chat-1", user_id="shopper-1", started_at=NOW, last_activity_at=NOW
        )

    def say(self, message: str) -> AdvisorReply:
        reply = final_reply(
            self.advisor.respond(TurnContext(session=self.session, message=message, memory=self.memory))
        )
        self.session = self.session.model_copy(
            update={
                "language": reply.language,
                "preferences": reply.preferences,
                "shown_products": reply.shown_products,
                "messages": [
                    *self.session.messages,
                    ChatMessage(role=Role.USER, content=message, timestamp=NOW, intent=reply.intent),
                    ChatMessage(
                        role=Role.ASSISTANT,
                        content=reply.text,
                        timestamp=NOW,
                        mentioned_products=reply.mentioned_products,
                        offered_code=reply.offered_discount_code,
                    ),
                ],
            }
        )
        return reply
