"""Who is calling: the admin (key from configuration), a creator, a shopper or an AI agent (keys issued
by us), or nobody.

Creator keys ("tsk_..."), shopper tokens ("tsh_...", issued when a chat starts) and agent keys
("tsa_...", issued by the admin to external agents speaking ACP) are random 256-bit tokens stored
only as their SHA-256 digest, so a leaked table holds no usable key; a salted slow hash is
unnecessary for keys of that entropy and would slow every call.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from talkshop.data.repository import Repository
from talkshop.errors import Forbidden, Unauthorized
from talkshop.ontology.model import Dimension, EntityRef, PersonRole
from talkshop.settings import Settings

API_KEY_PREFIX = "tsk_"
SHOPPER_TOKEN_PREFIX = "tsh_"  # noqa: S105 - a prefix, not a secret
AGENT_KEY_PREFIX = "tsa_"


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    CREATOR = "creator"
    SHOPPER = "shopper"
    ADMIN = "admin"
    AGENT = "agent"


# The role a key's holder must have, by the key's prefix: a key never works as another kind.
_ROLE_OF_PREFIX = {SHOPPER_TOKEN_PREFIX: PersonRole.CUSTOMER, AGENT_KEY_PREFIX: PersonRole.AI_AGENT}
_KIND_OF_ROLE = {
    PersonRole.CREATOR: PrincipalKind.CREATOR,
    PersonRole.CUSTOMER: PrincipalKind.SHOPPER,
    PersonRole.AI_AGENT: PrincipalKind.AGENT,
}


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    person_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == PrincipalKind.ADMIN

    @property
    def ref(self) -> EntityRef | None:
        if self.kind == PrincipalKind.CREATOR and self.person_id:
            return EntityRef(dimension=Dimension.PERSON, type=PersonRole.CREATOR, id=self.person_id)
        if self.kind == PrincipalKind.SHOPPER and self.person_id:
            return EntityRef(dimension=Dimension.PERSON, type=PersonRole.CUSTOMER, id=self.person_id)
        if self.kind == PrincipalKind.AGENT and self.person_id:
            return EntityRef(dimension=Dimension.PERSON, type=PersonRole.AI_AGENT, id=self.person_id)
        if self.is_admin:
            return EntityRef(dimension=Dimension.PERSON, type=PersonRole.ADMIN, id="admin")
        return None

    def may_act_for(self, creator_id: str) -> bool:
        return self.is_admin or (self.kind == PrincipalKind.CREATOR and self.person_id == creator_id)

    def may_shop_as(self, user_id: str) -> bool:
        """A shopper's own token, or the admin: who may see and change that shopper's carts and orders."""
        return self.is_admin or (self.kind == PrincipalKind.SHOPPER and self.person_id == user_id)

    def require_signed_in(self) -> None:
        if self.kind == PrincipalKind.ANONYMOUS:
            raise Unauthorized(
                "Send 'Authorization: Bearer <key>' with a creator or admin key.", code="missing_credentials"
            )

    def require_may_act_for(self, creator_id: str) -> None:
        self.require_signed_in()
        if not self.may_act_for(creator_id):
            raise Forbidden("This key may only manage its own creator's products.", code="not_owner")


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)
ADMIN = Principal(PrincipalKind.ADMIN)


def generate_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def generate_shopper_token() -> str:
    return SHOPPER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def generate_agent_key() -> str:
    return AGENT_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def resolve_admin_key(settings: Settings) -> str | None:
    if settings.admin_key:
        return settings.admin_key.strip()
    if settings.admin_key_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        # Cached for five minutes: a rotated key takes effect without a redeploy.
        return str(parameters.get_secret(settings.admin_key_secret_arn, max_age=300)).strip()
    return None


def authenticate(authorization: str | None, repository: Repository, settings: Settings) -> Principal:
    if not authorization:
        return ANONYMOUS
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("The Authorization header must be 'Bearer <key>'.", code="malformed_credentials")
    admin_key = resolve_admin_key(settings)
    if admin_key and hmac.compare_digest(key.encode(), admin_key.encode()):
        return ADMIN
    role = next(
        (role for prefix, role in _ROLE_OF_PREFIX.items() if key.startswith(prefix)), PersonRole.CREATOR
    )
    holder = repository.api_key_holder(hash_api_key(key))
    if holder is None or holder.type != role:
        raise Unauthorized("This API key is not valid.", code="invalid_credentials")
    return Principal(_KIND_OF_ROLE[role], holder.id)
