"""AI agents: external buyers speaking ACP. The admin issues each one a key ("tsa_…", shown once and
stored only as its digest, like creator keys) and can revoke it; the agent is a person with the
ai_agent role, which is what the key's holder must be for talkshop.auth to accept it.

The agent buys for its users as one customer of ours: a customer person with the agent's id (a
different entity, as the role is part of a person's address) owns its carts and orders, so that the
commerce core (discount rules, order history, events) treats agent purchases like any other.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from talkshop.auth import Principal, PrincipalKind, generate_agent_key, hash_api_key
from talkshop.clock import Clock, utc_now
from talkshop.commerce.webhooks import SUBSCRIBABLE_EVENTS, EndpointFormat, EndpointRequest, WebhookService
from talkshop.data.repository import IndexEntries, Repository
from talkshop.errors import Conflict, Forbidden, NotFound, Unauthorized
from talkshop.ontology.model import Dimension, EntityRef, Identifier, Person, PersonRole

CAMEL = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
# https, and no credentials in it (what the webhook endpoints accept).
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^/@\s]+(/\S*)?$", max_length=2000)]
# The order events an agent's webhook endpoint is subscribed to when its key is issued with a URL.
AGENT_ORDER_EVENTS = sorted(event for event in SUBSCRIBABLE_EVENTS if event.startswith("order_"))


def agent_ref(agent_id: str) -> EntityRef:
    return EntityRef(dimension=Dimension.PERSON, type=PersonRole.AI_AGENT, id=agent_id)


def new_agent_id() -> str:
    return "agt_" + secrets.token_hex(8)


class AgentKeyRequest(BaseModel):
    model_config = CAMEL

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    webhook_url: HttpsUrl | None = Field(
        default=None, description="Where order events for this agent's checkouts are POSTed (ACP webhook)."
    )


class Agent(BaseModel):
    """An agent as stored: a person with the ai_agent role, and where its order webhooks go."""

    model_config = ConfigDict(extra="forbid")

    id: Identifier
    role: PersonRole = PersonRole.AI_AGENT
    name: str
    webhook_url: str | None = None
    created_at: datetime

    @property
    def ref(self) -> EntityRef:
        return agent_ref(self.id)


class IssuedAgentKey(BaseModel):
    model_config = CAMEL

    id: str = Field(description="The agent's id: DELETE /api/admin/agent-keys/{id} revokes its key.")
    name: str
    webhook_url: str | None
    created_at: datetime
    # Null only in the replay of a retried request (Idempotency-Key): keys are never kept in clear.
    api_key: str | None = Field(
        description="Shown once: send it as 'Authorization: Bearer <key>' to /acp. Null when the answer "
        "replays a request retried with the same Idempotency-Key: revoke that agent and issue a new key."
    )
    webhook_secret: str | None = Field(
        default=None, description="With webhookUrl: the secret signing its deliveries, shown once."
    )


class AgentService:
    def __init__(self, repository: Repository, clock: Clock = utc_now) -> None:
        self.repository = repository
        self.clock = clock

    def get(self, agent_id: str) -> Agent | None:
        stored = self.repository.get(agent_ref(agent_id))
        return Agent.model_validate(stored.data) if stored else None

    def issue(self, request: AgentKeyRequest, principal: Principal) -> IssuedAgentKey:
        """A new agent and its key, in one transaction: the key is never stored in clear."""
        require_admin(principal)
        # Checked before anything is written, so that a URL the endpoints refuse leaves nothing behind.
        endpoint = (
            EndpointRequest(
                url=request.webhook_url, event_types=AGENT_ORDER_EVENTS, format=EndpointFormat.ACP
            )
            if request.webhook_url
            else None
        )
        now = self.clock()
        agent = Agent(id=new_agent_id(), name=request.name, webhook_url=request.webhook_url, created_at=now)
        api_key = generate_agent_key()

        def taken() -> Conflict:
            return Conflict("Agent id or key collision; try again.", code="key_collision")

        buyer = Person(id=agent.id, role=PersonRole.CUSTOMER, name=agent.name)
        work = self.repository.unit_of_work()
        work.create(agent.ref, agent.model_dump(mode="json"), IndexEntries(), now, taken)
        work.create(buyer.ref, buyer.model_dump(mode="json"), IndexEntries(), now, taken)
        work.register_api_key(hash_api_key(api_key), agent.ref, now, taken)
        work.commit()
        secret = self._register_webhook(agent.id, endpoint) if endpoint else None
        return IssuedAgentKey(
            id=agent.id,
            name=agent.name,
            webhook_url=agent.webhook_url,
            created_at=now,
            api_key=api_key,
            webhook_secret=secret,
        )

    def _register_webhook(self, agent_id: str, endpoint: EndpointRequest) -> str | None:
        """The agent's endpoint for its order events, as if the agent registered it (POST /api/webhooks)."""
        # Registering starts no delivery, so no state machine is needed here.
        service = WebhookService(self.repository, start_deliveries=lambda ids: None, clock=self.clock)
        return service.register(endpoint, Principal(PrincipalKind.AGENT, agent_id)).secret

    def revoke(self, agent_id: str, principal: Principal) -> None:
        """Revoke the agent's key (every key, should it have several); it stops working at once.

        Idempotent: revoking an agent whose key is already revoked changes nothing.
        """
        require_admin(principal)
        agent = self.get(agent_id)
        if agent is None:
            raise NotFound(f"No agent {agent_id!r}.", code="agent_not_found")
        work = self.repository.unit_of_work()
        for digest in self.repository.api_keys_of(agent.ref):
            work.revoke_api_key(digest)
        work.commit()


def require_admin(principal: Principal) -> None:
    principal.require_signed_in()
    if not principal.is_admin:
        raise Forbidden("Only the admin may manage agent keys.", code="admin_only")


def require_agent(principal: Principal) -> str:
    """The calling agent's id; any other caller is refused (ACP is for agents only)."""
    if principal.kind == PrincipalKind.ANONYMOUS:
        raise Unauthorized("Send 'Authorization: Bearer <agent key>'.", code="missing_credentials")
    if principal.kind != PrincipalKind.AGENT or principal.person_id is None:
        raise Forbidden("Only agent keys (tsa_…) may use the ACP API.", code="not_an_agent")
    return principal.person_id
