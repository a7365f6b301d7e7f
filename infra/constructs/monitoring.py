"""Alarms on a function's health, and one dashboard with every function and every alarm of the stack.

``FunctionAlarms`` watches a function: any error, any throttle, and a p95 duration close to the timeout
(a slow model or a slow dependency, before requests start timing out). The stack puts it on
``chat_message``, the function shoppers wait on and the only one calling an external service. The
dead-letter alarms of the stream consumers live next to their queues (``infra.constructs.streams``).

No alarm has an action: subscribe a notification channel (SNS, chat) to them per account.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra.constructs.functions import TalkshopFunction

PERIOD = Duration.minutes(5)
#: Share of the timeout above which the p95 duration raises the alarm.
SLOW_SHARE = 0.8
#: Consecutive slow periods before it does (one slow burst is not an incident).
SLOW_PERIODS = 3


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


class Dashboard(Construct):
    """``dashboard``: the alarms' states, then invocations, errors and p95 duration of every function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        functions: Sequence[TalkshopFunction],
        alarms: Sequence[cloudwatch.IAlarm],
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
