"""The payments layer: the ``payments`` extra of pyproject.toml (the Stripe SDK and its dependencies).

Only functions whose FunctionSpec has ``uses_payments`` get it (today ``checkout_steps``, the one function
that authorises, captures and voids), next to the talkshop layer, which holds ``talkshop.commerce.payments``
(the SDK is imported only when ``TALKSHOP_PAYMENTS=stripe``). A layer of its own rather than the talkshop
layer: every function would otherwise carry the SDK's ~20 MiB, ``chat_message`` included, which has the
least headroom under Lambda's size limit. Pruned like the LLM layer (the runtime's SDK and what the talkshop
layer ships), so no distribution is in both.
"""

from __future__ import annotations

from constructs import Construct

from infra import bundling
from infra.constructs.extra_layer import ExtraLayer
from infra.paths import PYPROJECT

PAYMENTS_LAYER_PRUNE: frozenset[str] = (
    bundling.RUNTIME_PROVIDED_DISTRIBUTIONS | bundling.TALKSHOP_LAYER_DISTRIBUTIONS
)


class PaymentsLayer(ExtraLayer):
    """``layer``: the payment provider SDK for the Lambda platform."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        installs = bundling.payments_layer_installs(PYPROJECT)
        names = [bundling.requirement_name(r) for install in installs for r in install.requirements]
        super().__init__(
            scope,
            construct_id,
            installs=installs,
            prune=PAYMENTS_LAYER_PRUNE,
            label="talkshop payments",
            description="talkshop payments: " + ", ".join(names),
        )
