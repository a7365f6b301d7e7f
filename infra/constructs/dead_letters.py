"""A dead-letter queue and the alarm on its first message, as every asynchronous consumer here has one.

The table stream's consumers (streams.py) and the rule that starts webhook deliveries (webhook_trigger.py)
park what they could not process in such a queue: SQS-managed encryption, TLS only, 14 days' retention,
nothing consuming it automatically (an operator reads and replays it), and an alarm on any visible
message. ``DeadLetterQueue`` and ``DeadLetterAlarm`` are created in the caller's scope, under those ids.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.monitoring import PERIOD, alarm_on_any

RETENTION = Duration.days(14)


def dead_letter_queue(
    scope: Construct, *, holds: str, alarm_description: str
) -> tuple[sqs.Queue, cloudwatch.Alarm]:
    """The queue (``holds`` says whose dead letters it keeps, for the SQS3 acknowledgment) and its alarm."""
    queue = sqs.Queue(
        scope,
        "DeadLetterQueue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=RETENTION,
    )
    Validations.of(queue).acknowledge(
        Acknowledgment(
            id="AwsSolutions-SQS3",
            reason=(
                f"This queue is itself the dead-letter destination of {holds}; nothing consumes it "
                "automatically, so it needs no DLQ of its own."
            ),
        )
    )
    alarm = alarm_on_any(
        scope,
        "DeadLetterAlarm",
        alarm_description,
        queue.metric_approximate_number_of_messages_visible(
            period=PERIOD, statistic=cloudwatch.Stats.MAXIMUM
        ),
    )
    return queue, alarm
