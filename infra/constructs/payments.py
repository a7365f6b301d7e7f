"""The payment provider's secret key (one Secrets Manager secret) and the provider choice.

The provider is configuration (context ``payments``: ``test``, the default, or ``stripe``) and becomes
``TALKSHOP_PAYMENTS`` of the functions that charge (``uses_payments``). Stripe's secret key is not: it
lives in a Secrets Manager secret whose ``SecretString`` is the key itself (``sk_live_…``), read at run
time through ``TALKSHOP_PAYMENTS_SECRET_ARN`` (``talkshop.commerce.payments.providers``). Created by the
stack, the secret holds a placeholder until an operator puts the key in (CloudFormation never writes the
value again unless the placeholder in the template changes); an existing secret can be used instead by
its complete ARN (context ``paymentsSecretArn``). Only ``uses_payments`` functions may read it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, SecretValue, Validations
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.llm import is_complete_secret_arn
from talkshop.commerce.payments.providers import STRIPE_PAYMENTS, TEST_PAYMENTS

#: The providers ``talkshop.commerce.payments.providers.provider_from_settings`` knows.
PAYMENT_PROVIDERS: tuple[str, ...] = (TEST_PAYMENTS, STRIPE_PAYMENTS)
#: What a created secret holds until an operator sets the key: not a key, and recognisable in an error.
PLACEHOLDER_KEY = "unset: put the Stripe secret key here"


def payment_provider(context_value: object) -> str:
    """Context ``payments`` -> the provider's name (``test`` when unset); anything else fails the synth."""
    if context_value is None or context_value == "":
        return TEST_PAYMENTS
    if context_value not in PAYMENT_PROVIDERS:
        raise ValueError(
            f"context 'payments' must be one of {', '.join(PAYMENT_PROVIDERS)}, got {context_value!r}"
        )
    return str(context_value)


class PaymentsSecret(Construct):
    """``secret``: created with a placeholder, or the existing secret ``existing_arn`` (complete ARN)."""

    def __init__(self, scope: Construct, construct_id: str, *, existing_arn: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self.secret: secretsmanager.ISecret
        if existing_arn:
            if not is_complete_secret_arn(existing_arn):
                raise ValueError(
                    "paymentsSecretArn must be a secret's complete ARN (ending in '-' and six characters), "
                    f"got {existing_arn!r}"
                )
            self.secret = secretsmanager.Secret.from_secret_complete_arn(self, "Secret", existing_arn)
            return
        created = secretsmanager.Secret(
            self,
            "Secret",
            description="Talkshop payment provider's secret key (Stripe, the key itself); set by an operator",
            # A placeholder, not a key: the template holds no secret. The real value is put by an operator.
            secret_string_value=SecretValue.unsafe_plain_text(PLACEHOLDER_KEY),
        )
        Validations.of(created).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason=(
                    "The Stripe secret key is issued by Stripe (dashboard 'roll key'); no rotation Lambda "
                    "can create a new one, so rotating is a manual operator action (docs/infrastructure.md, "
                    "'Payment provider key')."
                ),
            )
        )
        self.secret = created
