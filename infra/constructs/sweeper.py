"""The chat sweeper: every ``SWEEP_INTERVAL``, ``functions/chat_sweeper`` marks idle chats abandoned.

Built from ``talkshop.api.routes.CHAT_SWEEPER`` by ``TalkshopFunction`` (READ_WRITE table access). An
EventBridge schedule rule (on the account's default bus: scheduled rules live there) invokes it. A
missed run is harmless, the next one sweeps the same sessions, so a failed invocation is retried briefly
and then dropped rather than dead-lettered.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from infra.constructs.functions import FunctionSettings, TalkshopFunction
from talkshop.api.routes import CHAT_SWEEPER

#: Sessions become abandoned after 30 idle minutes; a 5-minute sweep marks them within 35.
SWEEP_INTERVAL = Duration.minutes(5)


class ChatSweeper(Construct):
    """``function`` (a TalkshopFunction) and ``schedule`` (the EventBridge rule invoking it)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: FunctionSettings,
        interval: Duration = SWEEP_INTERVAL,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = TalkshopFunction(self, "Function", spec=CHAT_SWEEPER, shared=shared)
        self.schedule = events.Rule(
            self,
            "Schedule",
            description=f"Runs the {CHAT_SWEEPER.name} function every {interval.to_minutes()} minutes",
            schedule=events.Schedule.rate(interval),
            targets=[
                targets.LambdaFunction(self.function.function, retry_attempts=2, max_event_age=interval)
            ],
        )
