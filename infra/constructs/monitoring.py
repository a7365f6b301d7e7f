"""Alarms on a function's health, and one dashboard with every function and every alarm of the stack.

``FunctionAlarms`` watches a function: any error, any throttle, and a p95 duration close to the timeout
(a slow model or a slow dependency, before requests start timing out). The stack puts it on
``chat_message``, the function shoppers wait on and the only one calling an external service. The
dead-letter alarms of the stream consumers live next to their queues (``infra.constructs.streams``).

``WorkflowAlarms`` watches a state machine: executions that time out, and executions that fail. A failed
checkout is often a business outcome (a declined card, the last unit sold), so for a workflow whose
failures are expected (``expected_failures``) the alarm is on the share of failed executions, not on one;
for the others (webhook delivery: an endpoint that never answers ends in a dead-letter record, not a
failed execution) on the first failure.

``OpsAlarms`` adds what an operator is woken for — chat latency over 5 s, the API's server error rate and
the day's LLM spend over its budget — and the SNS topic that **every** alarm of the stack notifies (an
aspect adds the action to each alarm, also to those created after it, such as the dead-letter alarms of
every queue). Subscribe an address with the ``alarmEmail`` context value, or any channel to the topic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Aspects, Duration, IAspect, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from infra.constructs.functions import TalkshopFunction
from talkshop.api.observability import METRICS_NAMESPACE, SERVICE

PERIOD = Duration.minutes(5)
#: Share of the timeout above which the p95 duration raises the alarm.
SLOW_SHARE = 0.8
#: Consecutive slow periods before it does (one slow burst is not an incident).
SLOW_PERIODS = 3
#: Share of failed executions (in %) above which a workflow with expected failures raises its alarm, when
#: at least ``MIN_EXECUTIONS`` started in the period (a few declines at night are not an incident) ...
FAILED_SHARE_PERCENT = 50
MIN_EXECUTIONS = 5
#: ... for this many consecutive periods.
FAILED_PERIODS = 2
#: The chat is slow when the p95 of chat_message's duration is above this (ms) ...
CHAT_LATENCY_MS = 5000
#: ... in this many of the last ``CHAT_LATENCY_PERIODS`` periods.
CHAT_LATENCY_DATAPOINTS = 2
CHAT_LATENCY_PERIODS = 3
#: Share of the API's requests answered 5xx (in %) above which the error-rate alarm fires, when at least
#: ``MIN_REQUESTS`` came in the period, for ``ERROR_RATE_PERIODS`` periods in a row.
ERROR_RATE_PERCENT = 5
MIN_REQUESTS = 20
ERROR_RATE_PERIODS = 2
#: The LLM budget per UTC day (USD) when the ``llmDailyBudgetUsd`` context value does not set one.
DEFAULT_LLM_DAILY_BUDGET_USD = 50.0
#: The metric chat_message publishes per answered message (Powertools Metrics, EMF): its cost in USD.
CHAT_COST_METRIC = "ChatCostUsd"


def alarm_on_any(
    scope: Construct, construct_id: str, description: str, metric: cloudwatch.IMetric
) -> cloudwatch.Alarm:
    """An alarm on the first occurrence in a period of ``metric`` (no data is no occurrence)."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=metric,
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


class FunctionAlarms(Construct):
    """``errors``, ``throttles`` and ``slow`` alarms of one function."""

    def __init__(self, scope: Construct, construct_id: str, *, function: TalkshopFunction) -> None:
        super().__init__(scope, construct_id)
        name = function.spec.name
        lambda_function = function.function
        self.errors = alarm_on_any(
            self,
            "Errors",
            f"{name} failed (an unhandled error or a timeout): see its logs and traces.",
            lambda_function.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
        )
        self.throttles = alarm_on_any(
            self,
            "Throttles",
            f"{name} was throttled: the account's or function's concurrency is exhausted.",
            lambda_function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
        )
        slow_ms = function.spec.timeout_s * 1000 * SLOW_SHARE
        self.slow = cloudwatch.Alarm(
            self,
            "Slow",
            alarm_description=(
                f"{name}'s p95 duration is above {SLOW_SHARE:.0%} of its {function.spec.timeout_s} s "
                "timeout: requests are about to time out (slow LLM provider or dependency)."
            ),
            metric=lambda_function.metric_duration(period=PERIOD, statistic=cloudwatch.Stats.percentile(95)),
            threshold=slow_ms,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=SLOW_PERIODS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        return [self.errors, self.throttles, self.slow]


class WorkflowAlarms(Construct):
    """``failed`` and ``timed_out`` alarms of one state machine."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        state_machine: sfn.StateMachine,
        expected_failures: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        failed = state_machine.metric_failed(period=PERIOD, statistic=cloudwatch.Stats.SUM)
        self.timed_out = alarm_on_any(
            self,
            "TimedOut",
            f"A {name} execution timed out: a step hangs (see the state machine's log and traces).",
            state_machine.metric_timed_out(period=PERIOD, statistic=cloudwatch.Stats.SUM),
        )
        if not expected_failures:
            self.failed = alarm_on_any(
                self,
                "Failed",
                f"A {name} execution failed: see the state machine's log for the failed state and error.",
                failed,
            )
            return
        share = cloudwatch.MathExpression(
            expression=f"IF(started >= {MIN_EXECUTIONS}, 100 * failed / started, 0)",
            using_metrics={
                "started": state_machine.metric_started(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                "failed": failed,
            },
            label=f"{name} failed executions (%)",
            period=PERIOD,
        )
        self.failed = cloudwatch.Alarm(
            self,
            "Failed",
            alarm_description=(
                f"Over {FAILED_SHARE_PERCENT}% of {name} executions failed for {FAILED_PERIODS} periods in a "
                "row: more than declines and sold-out items; see the state machine's log for the errors."
            ),
            metric=share,
            threshold=FAILED_SHARE_PERCENT,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=FAILED_PERIODS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        return [self.failed, self.timed_out]


class Dashboard(Construct):
    """``dashboard``: the alarms' states, invocations, errors and p95 duration of every function, then the
    started, succeeded and failed executions of every state machine (name -> state machine)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        functions: Sequence[TalkshopFunction],
        alarms: Sequence[cloudwatch.IAlarm],
        state_machines: Mapping[str, sfn.IStateMachine] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24)
        )
        p95 = cloudwatch.Stats.percentile(95)
        for title, metric_name, statistic in (
            ("Invocations", "Invocations", cloudwatch.Stats.SUM),
            ("Errors", "Errors", cloudwatch.Stats.SUM),
            ("Duration p95 (ms)", "Duration", p95),
        ):
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=title,
                    width=24,
                    left=[
                        f.function.metric(metric_name, period=PERIOD, statistic=statistic, label=f.spec.name)
                        for f in functions
                    ],
                )
            )
        for name, state_machine in (state_machines or {}).items():
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{name} executions",
                    width=24,
                    left=[
                        state_machine.metric_started(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                        state_machine.metric_succeeded(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                        state_machine.metric_failed(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                        state_machine.metric_timed_out(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                    ],
                )
            )

    def show_ops(self, ops: OpsAlarms) -> None:
        """The ops alarms' states, and each day's LLM spend against its budget."""
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Ops alarms", alarms=ops.alarms, width=12),
            cloudwatch.GraphWidget(
                title="LLM spend per day (USD)",
                width=12,
                left=[chat_cost_per_day().with_(label="LLM cost per day (USD)")],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=ops.llm_spend_budget, label="Daily budget")
                ],
            ),
        )


def llm_daily_budget(value: object) -> float:
    """The ``llmDailyBudgetUsd`` context value (a number, or a string from ``-c``) as a positive number."""
    if value is None or value == "":
        return DEFAULT_LLM_DAILY_BUDGET_USD
    try:
        budget = float(str(value))
    except ValueError:
        raise ValueError(f"llmDailyBudgetUsd must be a number of US dollars, not {value!r}") from None
    if not budget > 0:
        raise ValueError(f"llmDailyBudgetUsd must be above 0, not {value!r}")
    return budget


def chat_cost_per_day() -> cloudwatch.Metric:
    """What the advisor's LLM calls cost in a UTC day (every function's ChatCostUsd, one service)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=CHAT_COST_METRIC,
        dimensions_map={"service": SERVICE},
        statistic=cloudwatch.Stats.SUM,
        period=Duration.days(1),
    )


@jsii.implements(IAspect)
class NotifyOnEveryAlarm:
    """Adds the topic as the alarm and OK action of every CloudWatch alarm it visits."""

    def __init__(self, topic: sns.ITopic) -> None:
        self.action = cloudwatch_actions.SnsAction(topic)

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cloudwatch.Alarm):
            node.add_alarm_action(self.action)
            node.add_ok_action(self.action)


class OpsAlarms(Construct):
    """``chat_latency``, ``error_rate`` and ``llm_spend`` alarms, and ``topic``: where every alarm of the
    stack goes (encrypted with ``key``, a key CloudWatch may use; an AWS-managed key would refuse it)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        chat_function: TalkshopFunction,
        rest_api: apigateway.RestApi,
        llm_daily_budget_usd: float = DEFAULT_LLM_DAILY_BUDGET_USD,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.llm_spend_budget = llm_daily_budget_usd
        self.key = kms.Key(
            self, "Key", enable_key_rotation=True, description="Encrypts the Talkshop alarm notifications"
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
            )
        )
        self.topic = sns.Topic(
            self, "Topic", display_name="Talkshop alarms", master_key=self.key, enforce_ssl=True
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.chat_latency = cloudwatch.Alarm(
            self,
            "ChatLatency",
            alarm_description=(
                f"Shoppers wait more than {CHAT_LATENCY_MS / 1000:g} s for the advisor (p95 of "
                f"{chat_function.spec.name}'s duration): a slow LLM provider, search or table."
            ),
            metric=chat_function.function.metric_duration(
                period=PERIOD, statistic=cloudwatch.Stats.percentile(95)
            ),
            threshold=CHAT_LATENCY_MS,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=CHAT_LATENCY_PERIODS,
            datapoints_to_alarm=CHAT_LATENCY_DATAPOINTS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.error_rate = cloudwatch.Alarm(
            self,
            "ErrorRate",
            alarm_description=(
                f"Over {ERROR_RATE_PERCENT}% of API requests failed with a 5xx for {ERROR_RATE_PERIODS} "
                "periods in a row: see the Errors widget and the failing function's logs."
            ),
            metric=cloudwatch.MathExpression(
                expression=f"IF(requests >= {MIN_REQUESTS}, 100 * errors / requests, 0)",
                using_metrics={
                    "errors": rest_api.metric_server_error(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                    "requests": rest_api.metric_count(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                },
                label="API 5xx (%)",
                period=PERIOD,
            ),
            threshold=ERROR_RATE_PERCENT,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=ERROR_RATE_PERIODS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.llm_spend = cloudwatch.Alarm(
            self,
            "LlmSpend",
            alarm_description=(
                f"Today's LLM spend is over its budget of {llm_daily_budget_usd:g} USD (llmDailyBudgetUsd): "
                "check for abuse (WAF, throttling) or raise the budget."
            ),
            metric=chat_cost_per_day(),
            threshold=llm_daily_budget_usd,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        Aspects.of(Stack.of(self)).add(NotifyOnEveryAlarm(self.topic))

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        return [self.chat_latency, self.error_rate, self.llm_spend]
