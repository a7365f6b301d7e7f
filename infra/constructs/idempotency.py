"""The table of Powertools idempotency records (``Idempotency-Key`` on state-changing requests).

Its own table, so the ontology table holds only the ontology (``talkshop.api.idempotency``). The layout is
Powertools' ``DynamoDBPersistenceLayer`` default: partition key ``id`` (string, no sort key) and the
expiry epoch in ``expiration``, which DynamoDB's TTL deletes once past (records live 24 hours). On-demand
and point-in-time recovery like the main table. Deleting the stack deletes it: its records are a
day's replay protection, not data.

Only functions whose FunctionSpec has ``uses_idempotency`` get its name (``TALKSHOP_IDEMPOTENCY_TABLE``)
and exactly the item actions Powertools calls: get, conditional put, update and delete.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from talkshop.settings import IDEMPOTENCY_TABLE_VARIABLE

#: Powertools' ``DynamoDBPersistenceLayer`` defaults (a test checks they still agree).
KEY_ATTRIBUTE = "id"
EXPIRY_ATTRIBUTE = "expiration"
#: What ``DynamoDBPersistenceLayer`` calls: GetItem, PutItem (conditional), UpdateItem, DeleteItem.
IDEMPOTENCY_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)


class IdempotencyTable(Construct):
    """``table``: on demand, PITR, TTL on ``expiration``, destroyed with the stack."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=KEY_ATTRIBUTE, type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=EXPIRY_ATTRIBUTE,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )

    def grant_use(self, role: iam.IRole) -> dict[str, str]:
        """Let ``role`` keep idempotency records here; returns the variable naming the table."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="IdempotencyRecords",
                actions=list(IDEMPOTENCY_ACTIONS),
                resources=[self.table.table_arn],
            )
        )
        return {IDEMPOTENCY_TABLE_VARIABLE: self.table.table_name}
