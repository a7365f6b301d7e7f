"""CDK app entry point: ``.venv/bin/python infra/app.py`` from the repository root (cdk.json's "app").

Run as a script, Python puts ``infra/`` first on ``sys.path``, where ``infra/constructs`` would shadow
the ``constructs`` library; ``_fix_sys_path`` swaps it for the repository root before anything from
aws_cdk is imported (hence the imports inside ``create_app``).

Context (``cdk synth -c key=value`` or cdk.json): ``stackName`` (default Talkshop), ``logLevel``
(POWERTOOLS_LOG_LEVEL, default INFO), ``corsAllowOrigins`` (comma-separated, default ``*``),
``searchProfile`` (``dev``, the default, or ``production``: the OpenSearch domain's size and
availability), ``searchDomainName`` (default ``<stack name>-search``), ``llmSecretArn`` (an existing
secret with the LLM API keys; by default the stack creates one), ``talkshop:llm-<name>`` (LLM
configuration, passed to ``uses_llm`` functions as ``TALKSHOP_LLM_<NAME>``), ``payments`` (the payment
provider, ``test`` or ``stripe``; default ``test``), ``paymentsSecretArn`` (an existing secret with the
Stripe secret key; by default the stack creates one), ``publicUrl`` (the base of the links in ACP answers
and product feeds; default the web client's URL), ``shopName`` (the shop's name in them; default
Talkshop), ``webDomainName`` and ``webCertificateArn`` (a custom domain for the web client's CloudFront
distribution and its ACM certificate in us-east-1; both or neither), ``webAclArn`` (an existing WAF web
ACL of scope CLOUDFRONT to attach to the distribution).

Run directly, the app checks after synthesis that every function's code plus its layers stays under
Lambda's 250 MB unzipped limit (``infra.sizes``), and prints the sizes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aws_cdk

    from infra.stack import TalkshopStack

_INFRA_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _INFRA_DIR.parent


def _fix_sys_path() -> None:
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _INFRA_DIR]
    if str(_REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(_REPO_ROOT))
    if importlib.util.find_spec("talkshop") is None:  # not pip-installed: use the source tree
        sys.path.insert(1, str(_REPO_ROOT / "layers"))


def create_app(
    context: dict[str, Any] | None = None, outdir: str | None = None
) -> tuple[aws_cdk.App, TalkshopStack]:
    """The app and its one stack. Tests pass ``{"aws:cdk:bundling-stacks": []}`` to skip bundling."""
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks

    from infra.constructs.llm import llm_environment
    from infra.constructs.monitoring import llm_daily_budget
    from infra.constructs.payments import payment_provider
    from infra.constructs.search import search_profile
    from infra.constructs.web import web_domain
    from infra.stack import TalkshopStack
    from talkshop.api import cors

    app = cdk.App(context=context, outdir=outdir)
    origins = app.node.try_get_context("corsAllowOrigins")
    stack = TalkshopStack(
        app,
        app.node.try_get_context("stackName") or "Talkshop",
        description=(
            "Talkshop: conversational commerce backend "
            "(API Gateway, Lambda, DynamoDB, OpenSearch, EventBridge, Step Functions, CloudFront and S3)"
        ),
        log_level=app.node.try_get_context("logLevel") or "INFO",
        cors_allow_origins=cors.parse_origins(origins),
        search_profile=search_profile(app.node.try_get_context("searchProfile")),
        search_domain_name=app.node.try_get_context("searchDomainName") or None,
        llm_secret_arn=app.node.try_get_context("llmSecretArn") or None,
        llm_environment=llm_environment(app.node.get_all_context()),
        payment_provider=payment_provider(app.node.try_get_context("payments")),
        payments_secret_arn=app.node.try_get_context("paymentsSecretArn") or None,
        public_url=(app.node.try_get_context("publicUrl") or "").rstrip("/") or None,
        shop_name=app.node.try_get_context("shopName") or None,
        web_domain=web_domain(
            app.node.try_get_context("webDomainName"), app.node.try_get_context("webCertificateArn")
        ),
        web_acl_arn=app.node.try_get_context("webAclArn") or None,
        llm_daily_budget_usd=llm_daily_budget(app.node.try_get_context("llmDailyBudgetUsd")),
        alarm_email=app.node.try_get_context("alarmEmail") or None,
        env=cdk.Environment(account=_environ("CDK_DEFAULT_ACCOUNT"), region=_environ("CDK_DEFAULT_REGION")),
    )
    cdk.Tags.of(app).add("project", "talkshop")
    # cdk-nag v3 is a policy-validation plugin: violations fail `synth` and are written to
    # cdk.out/validation-report.json; acknowledgements live next to the constructs they concern.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def _environ(name: str) -> str | None:
    return os.environ.get(name) or None


def main() -> None:
    _fix_sys_path()
    # The CDK CLI sets CDK_OUTDIR; run directly (`make synth`), the app writes to <repo>/cdk.out.
    app, _ = create_app(outdir=os.environ.get("CDK_OUTDIR") or str(_REPO_ROOT / "cdk.out"))
    assembly = app.synth()

    from infra import sizes

    for stack in assembly.stacks:
        report = sizes.function_sizes(stack.template, Path(assembly.directory))
        print(sizes.format_report(stack.stack_name, report), file=sys.stderr)
        sizes.check_limit(report)


if __name__ == "__main__":
    main()
