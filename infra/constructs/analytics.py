"""Every event on the bus -> the analytics consumer, with a dead-letter queue and its alarm.

An EventBridge rule on the application's bus matches every event of source ``talkshop`` and invokes
``functions/analytics_consumer`` (``talkshop.api.routes.ANALYTICS_CONSUMER``, READ_WRITE table access)
once per event; the function counts it into the metric items, each event id once (a redelivery counts
nothing). An invocation that keeps failing is retried by EventBridge for up to a day, then the event
goes to the dead-letter queue, watched by an alarm; `talkshop analytics rebuild` (or a replay from the
bus archive) recounts what was missed.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_destinations as destinations
from constructs import Construct

from infra.constructs.dead_letters import dead_letter_queue
from infra.constructs.events import EventBus
from infra.constructs.functions import FunctionSettings, TalkshopFunction
from infra.constructs.webhook_trigger import TARGET_MAX_EVENT_AGE, TARGET_RETRY_ATTEMPTS
from talkshop.api.routes import ANALYTICS_CONSUMER
from talkshop.events.publisher import EVENT_SOURCE


class AnalyticsConsumer(Construct):
    """``function``, ``rule`` (every talkshop event -> function), ``dead_letter_queue`` and
    ``dead_letter_alarm``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, shared: FunctionSettings, event_bus: EventBus
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = TalkshopFunction(self, "Function", spec=ANALYTICS_CONSUMER, shared=shared)
        self.dead_letter_queue, self.dead_letter_alarm = dead_letter_queue(
            self,
            holds="the analytics rule's Lambda target (events the analytics consumer could not count)",
            alarm_description="Events were not counted in the analytics: see the messages in the analytics "
            "dead-letter queue, fix the cause, then run `talkshop analytics rebuild --aws` "
            "(docs/analytics.md).",
        )
        # EventBridge hands the event to Lambda asynchronously: its DLQ only holds events Lambda refused.
        # An invocation that fails (e.g. a count that kept colliding) is retried by Lambda, then sent to
        # the same queue, so no event is dropped unseen.
        self.function.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
            retry_attempts=2,
            max_event_age=Duration.hours(6),
        )
        self.rule = events.Rule(
            self,
            "Rule",
            event_bus=event_bus.bus,
            description="Counts every Talkshop event into the analytics metric items",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            targets=[
                targets.LambdaFunction(
                    self.function.function,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=TARGET_MAX_EVENT_AGE,
                )
            ],
        )
