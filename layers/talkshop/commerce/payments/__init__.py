"""Payments behind one interface: the built-in test provider, Stripe and ACP delegated tokens.

`provider_from_settings(repository)` is what the checkout charges through; model.py holds the
PaymentProvider protocol, the Authorisation and the two errors every provider raises.
"""

from talkshop.commerce.payments.model import (
    Authorisation,
    PaymentDeclined,
    PaymentError,
    PaymentProvider,
    PaymentUnavailable,
)
from talkshop.commerce.payments.providers import provider_from_settings

__all__ = [
    "Authorisation",
    "PaymentDeclined",
    "PaymentError",
    "PaymentProvider",
    "PaymentUnavailable",
    "provider_from_settings",
]
