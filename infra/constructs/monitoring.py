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

No alarm has an action: subscribe a notification channel (SNS, chat) to them per account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.functions import TalkshopFunction

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
