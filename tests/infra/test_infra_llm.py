"""The LLM providers' secret, its readers, and the LLM configuration passed from context."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import App, CfnElement, Stack
from aws_cdk.assertions import Template
from constructs import IConstruct

from infra.constructs.llm import (
    LLM_SECRET_FIELDS,
    LLM_SECRET_VARIABLE,
    LlmSecret,
    llm_environment,
    placeholder_secret_value,
)
from infra.stack import TalkshopStack

pytestmark = pytest.mark.slow

LogicalId = Callable[[IConstruct], str]
Resources = dict[str, dict[str, Any]]
EXISTING_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:talkshop/llm-AbC123"


def _readers(resources: Resources, secret_ref: dict[str, str]) -> set[str]:
    """Logical IDs of the roles with a statement on the secret."""
    return {
        role["Ref"]
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement["Resource"] == secret_ref
        for role in resource["Properties"]["Roles"]
    }


def test_created_secret_holds_empty_placeholders_for_every_provider(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    secret = resources[logical_id(stack.llm_secret.secret)]["Properties"]
    assert json.loads(secret["SecretString"]) == dict.fromkeys(
        ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"), ""
    )
    assert "GenerateSecretString" not in secret
    assert tuple(json.loads(placeholder_secret_value())) == LLM_SECRET_FIELDS


def test_only_llm_functions_read_the_secret_and_know_its_arn(
    stack: TalkshopStack, resources: Resources, logical_id: LogicalId
) -> None:
    secret_ref = {"Ref": logical_id(stack.llm_secret.secret)}
    users = [f for f in stack.all_functions if f.spec.uses_llm]
    assert [f.spec.name for f in users] == ["chat_message", "web"]  # web: the no-JavaScript chat
    assert _readers(resources, secret_ref) == {logical_id(f.role) for f in users}
    for function in stack.all_functions:
        variables = resources[logical_id(function.function)]["Properties"]["Environment"]["Variables"]
        assert (variables.get(LLM_SECRET_VARIABLE) == secret_ref) is function.spec.uses_llm, (
            function.spec.name
        )
        # No key in any environment variable, whatever the context held.
        assert not set(variables) & set(LLM_SECRET_FIELDS)


def test_llm_environment_passes_configuration_from_context() -> None:
    context = {
        "talkshop:llm-provider": "anthropic",
        "talkshop:llm-model": "claude-large",
        "talkshop:llm-cost-cap-usd": 0.5,
        "talkshop:llm-max-output-tokens": 2048,
        "stackName": "Other",
        "talkshop:search": "ignored: not an llm- key",
    }
    assert llm_environment(context) == {
        "TALKSHOP_LLM_COST_CAP_USD": "0.5",
        "TALKSHOP_LLM_MAX_OUTPUT_TOKENS": "2048",
        "TALKSHOP_LLM_MODEL": "claude-large",
        "TALKSHOP_LLM_PROVIDER": "anthropic",
    }
    assert llm_environment({}) == {}


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"talkshop:llm-api-key": "sk-123"}, "credential"),
        ({"talkshop:llm-anthropic-secret": "x"}, "credential"),
        ({"talkshop:llm-session-token": "x"}, "credential"),
        ({"talkshop:llm-Model": "x"}, "lowercase"),
        ({"talkshop:llm-": "x"}, "lowercase"),
        ({"talkshop:llm-models": ["a", "b"]}, "string or a number"),
        ({"talkshop:llm-stream": True}, "string or a number"),
    ],
)
def test_llm_environment_refuses_credentials_and_bad_values(context: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        llm_environment(context)


def test_context_reaches_the_llm_functions_only() -> None:
    from infra.app import create_app

    _, stack = create_app(
        {
            "aws:cdk:bundling-stacks": [],
            "@aws-cdk/core:failSynthOnValidationErrors": False,
            "talkshop:llm-provider": "openai",
            "llmSecretArn": EXISTING_ARN,
        }
    )
    template = Template.from_stack(stack).to_json()["Resources"]
    created = [r["Properties"] for r in template.values() if r["Type"] == "AWS::SecretsManager::Secret"]
    # The admin key and the payment provider's key; no LLM secret is created.
    assert len(created) == 2
    assert not [secret for secret in created if "LLM" in secret["Description"]]
    for function in stack.all_functions:
        cfn_function = function.function.node.default_child
        assert isinstance(cfn_function, CfnElement)
        logical = stack.resolve(stack.get_logical_id(cfn_function))
        variables = template[logical]["Properties"]["Environment"]["Variables"]
        if function.spec.uses_llm:
            assert variables["TALKSHOP_LLM_PROVIDER"] == "openai"
            assert variables[LLM_SECRET_VARIABLE] == EXISTING_ARN
        else:
            assert not [name for name in variables if name.startswith("TALKSHOP_LLM_")], function.spec.name
    grants = [
        statement
        for resource in template.values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement["Resource"] == EXISTING_ARN
    ]
    assert len(grants) == len([f for f in stack.all_functions if f.spec.uses_llm])
    for grant in grants:
        assert set(grant["Action"]) == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}


def test_an_existing_secret_needs_its_complete_arn() -> None:
    stack = Stack(App(), "Bare")
    with pytest.raises(ValueError, match="complete ARN"):
        LlmSecret(
            stack, "Llm", existing_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:talkshop/llm"
        )
    imported = LlmSecret(stack, "Imported", existing_arn=EXISTING_ARN)
    assert imported.secret.secret_arn == EXISTING_ARN
    assert Template.from_stack(stack).find_resources("AWS::SecretsManager::Secret") == {}


def test_infra_and_talkshop_llm_agree_on_the_variables() -> None:
    """Drift guard against ``talkshop.llm.config``: it reads the secret's variable, and every other
    ``TALKSHOP_LLM_*`` variable it reads can be set from context, except a key (which is in the secret)."""
    import inspect
    import re

    from talkshop.llm import config

    source = inspect.getsource(config)
    assert f'"{LLM_SECRET_VARIABLE}"' in source
    read = set(re.findall(r"TALKSHOP_LLM_[A-Z0-9_]*[A-Z0-9]", source)) - {LLM_SECRET_VARIABLE}
    assert {"TALKSHOP_LLM_PROVIDER", "TALKSHOP_LLM_TIMEOUT_S", "TALKSHOP_LLM_MAX_OUTPUT_TOKENS"} <= read
    credentials = {"TALKSHOP_LLM_API_KEY"}  # an OpenAI-compatible server's key: on AWS, OPENAI_API_KEY
    context = {
        "talkshop:llm-" + name.removeprefix("TALKSHOP_LLM_").lower().replace("_", "-"): "1"
        for name in read - credentials
    }
    assert set(llm_environment(context)) == read - credentials
    for name in credentials & read:
        with pytest.raises(ValueError, match="credential"):
            llm_environment(
                {"talkshop:llm-" + name.removeprefix("TALKSHOP_LLM_").lower().replace("_", "-"): "x"}
            )
