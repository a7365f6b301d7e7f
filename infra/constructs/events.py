"""The application's EventBridge bus (``<stack name>-events``) and its archive for replay.

The functions record events in the table with the change they describe (a transactional outbox); the
event publisher (``infra.constructs.publisher``) puts them on this bus. Consumers (analytics, emails,
later services) subscribe with rules on the bus. The archive keeps every event for ``ARCHIVE_RETENTION``
so a new or repaired consumer can replay them (``aws events start-replay``).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

ARCHIVE_RETENTION = Duration.days(30)


def event_bus_name_for(stack_name: str) -> str:
    """``Talkshop`` -> ``Talkshop-events``."""
    return f"{stack_name}-events"


class EventBus(Construct):
    """``bus`` (named explicitly, so consumers in other stacks can find it) and ``archive``."""

    def __init__(self, scope: Construct, construct_id: str, *, bus_name: str) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(
            self, "Bus", event_bus_name=bus_name, description="Talkshop domain events (chat, catalog, orders)"
        )
        self.archive = self.bus.archive(
            "Archive",
            description=f"Every event of {bus_name}, for replay",
            # An archive needs a pattern; every event on the bus comes from this account.
            event_pattern=events.EventPattern(account=[Stack.of(self).account]),
            retention=ARCHIVE_RETENTION,
        )

    def grant_put_events(self, grantee: iam.IGrantable) -> None:
        """``events:PutEvents`` on this bus only."""
        self.bus.grant_put_events_to(grantee)
