"""The LLM providers' API keys (one Secrets Manager secret) and the non-secret LLM configuration.

The secret is JSON with one key per provider (``LLM_SECRET_FIELDS``). Created by the stack, it holds empty
placeholders: the advisor runs its rules engine until an operator puts real keys into it (CloudFormation
never writes the value again unless the placeholder in the template changes). An existing secret can be
used instead by its complete ARN (context ``llmSecretArn``); the stack then neither creates nor owns one.

Only ``uses_llm`` functions get the secret's ARN (``TALKSHOP_LLM_SECRET_ARN``) and read access to it.
Provider and model choices are configuration, not secrets: context values ``talkshop:llm-<name>`` become
the variables ``TALKSHOP_LLM_<NAME>`` of those functions; a name that looks like a credential is refused,
so a key can never end up in an environment variable (visible to anyone who may read the function).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from aws_cdk import Acknowledgment, SecretValue, Validations
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

#: Environment variable with the secret's ARN (read by ``talkshop.llm``).
LLM_SECRET_VARIABLE = "TALKSHOP_LLM_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
#: The secret's JSON fields, one per provider (the same names as the providers' own variables).
LLM_SECRET_FIELDS: tuple[str, ...] = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY")
#: Context keys ``talkshop:llm-<name>`` -> variables ``TALKSHOP_LLM_<NAME>``.
LLM_CONTEXT_PREFIX = "talkshop:llm-"
LLM_VARIABLE_PREFIX = "TALKSHOP_LLM_"
_CONTEXT_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
#: Words of a variable name that mean a credential (``TOKENS``, a count, is not one: MAX_OUTPUT_TOKENS).
_CREDENTIAL_WORDS = frozenset({"KEY", "APIKEY", "SECRET", "TOKEN", "PASSWORD", "CREDENTIAL", "CREDENTIALS"})
#: ``-`` and six characters: Secrets Manager's suffix, which only a complete ARN carries.
_COMPLETE_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$"
)


def llm_environment(context: Mapping[str, object]) -> dict[str, str]:
    """``{"talkshop:llm-provider": "anthropic"}`` -> ``{"TALKSHOP_LLM_PROVIDER": "anthropic"}``.

    Other context keys are ignored. Raises ValueError for a malformed name, a non-scalar value, or a
    name that looks like a credential (keys belong in the secret).
    """
    environment: dict[str, str] = {}
    for key, value in sorted(context.items()):
        if not key.startswith(LLM_CONTEXT_PREFIX):
            continue
        name = key.removeprefix(LLM_CONTEXT_PREFIX)
        if not _CONTEXT_NAME.match(name):
            raise ValueError(f"context {key!r}: use lowercase words joined by '-', e.g. talkshop:llm-model")
        variable = LLM_VARIABLE_PREFIX + name.upper().replace("-", "_")
        if _CREDENTIAL_WORDS & set(variable.split("_")):
            raise ValueError(
                f"context {key!r} looks like a credential: put API keys into the LLM secret, "
                "not into environment variables"
            )
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"context {key!r} must be a string or a number, got {value!r}")
        environment[variable] = str(value)
    return environment


def is_complete_secret_arn(arn: str) -> bool:
    """A secret's complete ARN (with Secrets Manager's six-character suffix), which IAM grants need."""
    return _COMPLETE_SECRET_ARN.match(arn) is not None


def placeholder_secret_value() -> str:
    """The JSON a created secret starts with: every provider's field, empty."""
    return json.dumps(dict.fromkeys(LLM_SECRET_FIELDS, ""))


class LlmSecret(Construct):
    """``secret``: created with empty placeholders, or the existing secret ``existing_arn`` (complete ARN)."""

    def __init__(self, scope: Construct, construct_id: str, *, existing_arn: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.secret: secretsmanager.ISecret
        if existing_arn:
            if not is_complete_secret_arn(existing_arn):
                raise ValueError(
                    f"llmSecretArn must be a secret's complete ARN (ending in '-' and six characters), "
                    f"got {existing_arn!r}"
                )
            self.secret = secretsmanager.Secret.from_secret_complete_arn(self, "Secret", existing_arn)
            return
        created = secretsmanager.Secret(
            self,
            "Secret",
            description=(
                "Talkshop LLM provider API keys (JSON: " + ", ".join(LLM_SECRET_FIELDS) + "); "
                "empty until an operator sets them"
            ),
            # Empty strings, not keys: the template holds no secret. The real value is put by an operator.
            secret_string_value=SecretValue.unsafe_plain_text(placeholder_secret_value()),
        )
        Validations.of(created).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason=(
                    "The LLM API keys are issued by the providers (Anthropic, OpenAI, Google); no rotation "
                    "Lambda can create new ones, so rotating is a manual operator action "
                    "(docs/infrastructure.md, 'LLM API keys')."
                ),
            )
        )
        self.secret = created
