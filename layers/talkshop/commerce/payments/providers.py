"""The payment provider the deployment is configured for, read from the environment.

- TALKSHOP_PAYMENTS: `test` (default; the built-in provider, state in the table) or `stripe`.
- Stripe's secret key: STRIPE_API_KEY, or the Secrets Manager secret named by
  TALKSHOP_PAYMENTS_SECRET_ARN (its value is the key itself; read once, cached five minutes).
- STRIPE_API_BASE: another Stripe-compatible server (stripe-mock, a test fake); unset means Stripe.
- TALKSHOP_ACP_MERCHANT_ID: the merchant id agents' delegated-payment allowances must name.

Whatever the provider, ACP delegated tokens (`vt_…`) work on top of it (see delegated.py).
"""

from __future__ import annotations

import os

from talkshop.clock import Clock, utc_now
from talkshop.commerce.payments.delegated import CardTokenisingProvider, DelegatedPayments
from talkshop.commerce.payments.testing import TestPaymentProvider
from talkshop.data.repository import Repository

PAYMENTS_VARIABLE = "TALKSHOP_PAYMENTS"
STRIPE_KEY_VARIABLE = "STRIPE_API_KEY"
STRIPE_SECRET_VARIABLE = "TALKSHOP_PAYMENTS_SECRET_ARN"  # noqa: S105 - a variable name, not a secret
STRIPE_API_BASE_VARIABLE = "STRIPE_API_BASE"
MERCHANT_ID_VARIABLE = "TALKSHOP_ACP_MERCHANT_ID"
TEST_PAYMENTS = "test"
STRIPE_PAYMENTS = "stripe"
DEFAULT_MERCHANT_ID = "talkshop"


def provider_from_settings(repository: Repository, clock: Clock = utc_now) -> DelegatedPayments:
    """The configured provider, accepting delegated tokens too; raises ValueError when misconfigured."""
    choice = os.environ.get(PAYMENTS_VARIABLE, "").strip().lower() or TEST_PAYMENTS
    provider: CardTokenisingProvider
    if choice == TEST_PAYMENTS:
        provider = TestPaymentProvider(repository, clock)
    elif choice == STRIPE_PAYMENTS:
        # Imported here: only deployments that charge through Stripe ship the SDK (the `payments` extra).
        from talkshop.commerce.payments.stripe import StripeProvider

        provider = StripeProvider(_stripe_key(), api_base=os.environ.get(STRIPE_API_BASE_VARIABLE) or None)
    else:
        raise ValueError(f"{PAYMENTS_VARIABLE} must be {TEST_PAYMENTS} or {STRIPE_PAYMENTS}, got {choice!r}")
    merchant_id = os.environ.get(MERCHANT_ID_VARIABLE, "").strip() or DEFAULT_MERCHANT_ID
    return DelegatedPayments(repository, provider, merchant_id, clock)


def _stripe_key() -> str:
    key = os.environ.get(STRIPE_KEY_VARIABLE, "").strip()
    if key:
        return key
    secret_arn = os.environ.get(STRIPE_SECRET_VARIABLE, "").strip()
    if not secret_arn:
        raise ValueError(
            f"{PAYMENTS_VARIABLE}={STRIPE_PAYMENTS} needs {STRIPE_KEY_VARIABLE} or {STRIPE_SECRET_VARIABLE}"
        )
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(secret_arn, max_age=300)).strip()
