"""Order events on the bus -> the webhook delivery state machine, with a dead-letter queue for the target.

An EventBridge rule on the application's bus matches the events webhook endpoints may subscribe to
(``talkshop.commerce.webhooks.SUBSCRIBABLE_EVENTS``, source ``talkshop``) and starts one execution of the
webhook delivery state machine per event, with the whole event as input (its plan step reads
``$.detail``). EventBridge retries a start that fails (throttling, a service error) for up to a day;
an event it still cannot deliver goes to the dead-letter queue, watched by an alarm. The state machine
itself retries each endpoint and records its own dead letters (``webhook_delivery.asl.json``).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.dead_letters import dead_letter_queue
from infra.constructs.events import EventBus
from talkshop.commerce.webhooks import SUBSCRIBABLE_EVENTS
from talkshop.events.publisher import EVENT_SOURCE

#: EventBridge's maximums: a start that keeps failing is retried for a day before it is dead-lettered.
TARGET_RETRY_ATTEMPTS = 185
TARGET_MAX_EVENT_AGE = Duration.hours(24)


class WebhookTrigger(Construct):
    """``rule`` (order events -> ``state_machine``), ``dead_letter_queue`` and ``dead_letter_alarm``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, event_bus: EventBus, state_machine: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue, self.dead_letter_alarm = dead_letter_queue(
            self,
            holds="the rule's state machine target (order events EventBridge could not start a webhook "
            "delivery for)",
            alarm_description="Order events could not start a webhook delivery: see the messages in the "
            "webhook trigger's dead-letter queue and redeliver those orders' webhooks "
            "(docs/infrastructure.md).",
        )
        self.rule = events.Rule(
            self,
            "Rule",
            event_bus=event_bus.bus,
            description="Starts a webhook delivery for every order event endpoints may subscribe to",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=sorted(SUBSCRIBABLE_EVENTS)),
            targets=[
                targets.SfnStateMachine(
                    state_machine,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=TARGET_MAX_EVENT_AGE,
                )
            ],
        )
