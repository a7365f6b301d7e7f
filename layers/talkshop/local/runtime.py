"""The local stand-in for the AWS account: moto services in this process, persisted to a data dir.

`LocalAws` is used by `talkshop local` and by the CLI's data commands, so both see the same data.
Only one process may own a data dir at a time (an exclusive lock file says so clearly).

Webhooks: on AWS an EventBridge rule (infra/constructs/webhook_trigger.py) starts the webhook_delivery
state machine for every order event endpoints may subscribe to. moto's EventBridge delivers to no Step
Functions target, so `persist` stands in for that rule: each such event it puts on the local bus is also
handed to a starter thread, which starts a Standard execution of the same ASL with the same input (the
EventBridge event) and does not wait for it. The thread never takes the invocation lock, so the
execution's steps simply queue behind the request in flight. Endpoints on 127.0.0.1 are allowed here
(TALKSHOP_WEBHOOK_ALLOW_LOOPBACK); TALKSHOP_LOCAL_FAST_RETRIES shortens that state machine's retry waits
to a second (for tests; the ASL file keeps its production values).

Analytics: on AWS an EventBridge rule (infra/constructs/analytics.py) hands every event of the bus to
the analytics_consumer function. `persist` stands in for it too: each event it put on the local bus
goes through that function's handler right away, in the same invocation (under the lock `persist`'s
caller holds), and the metric items it writes are journalled before `persist` returns.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import queue
import secrets
import threading
import uuid
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider import cold_start
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID

from talkshop.api import context
from talkshop.api.observability import metrics
from talkshop.api.routes import ANALYTICS_CONSUMER
from talkshop.api.state_machines import STATE_MACHINES, WEBHOOK_DELIVERY
from talkshop.commerce.webhooks import ALLOW_LOOPBACK_VARIABLE, SUBSCRIBABLE_EVENTS
from talkshop.errors import TalkshopError
from talkshop.events.publisher import EVENT_SOURCE, event_detail, recorded_events
from talkshop.local import lambdas, moto_tuning, stepfunctions
from talkshop.local.apigateway import LocalLambdaContext
from talkshop.local.invoke import handler_for
from talkshop.local.persistence import TableJournal
from talkshop.local.resources import create_idempotency_table, create_table
from talkshop.settings import (
    EVENT_BUS_NAME_VARIABLE,
    IDEMPOTENCY_TABLE_VARIABLE,
    LOCAL_SEARCH,
    SEARCH_BACKEND_VARIABLE,
    SEARCH_INDEX_DIR_VARIABLE,
    get_settings,
)

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient

    from talkshop.ontology.model import Event
    from talkshop.search.local_index import LocalSearchIndex

DEFAULT_DATA_DIR = Path(".talkshop")
LOCAL_TABLE_NAME = "talkshop"
LOCAL_REGION = "eu-west-1"
LOCAL_EVENT_BUS = "talkshop-local"
# Idempotency-Key records are not journalled: like their 24-hour expiry, a restart forgets them.
LOCAL_IDEMPOTENCY_TABLE = "talkshop-idempotency"
# Set (1/true/yes) to wait about a second between the webhook state machine's retries instead of minutes.
FAST_RETRIES_VARIABLE = "TALKSHOP_LOCAL_FAST_RETRIES"
_STOP_STARTING = None  # what tells the webhook starter thread to end


class DataDirInUse(TalkshopError):
    code = "data_dir_in_use"


def demo_catalog_path() -> Path:
    return Path(str(resources.files("talkshop") / "demo" / "catalog.json"))


def eventbridge_event(event: Event, region: str, account_id: str) -> dict[str, Any]:
    """The event as EventBridge hands it to a rule's Step Functions target: the execution's input."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": event.type.value,
        "source": EVENT_SOURCE,
        "account": account_id,
        "time": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": event_detail(event),
    }


def with_fast_retries(definition: str) -> str:
    """The ASL with every Retry waiting about a second (IntervalSeconds 1, no backoff growth), its
    MaxAttempts and everything else unchanged."""

    def shorten(node: Any) -> Any:
        if isinstance(node, dict):
            if "Retry" in node:
                node["Retry"] = [
                    {**retrier, "IntervalSeconds": 1, "BackoffRate": 1.0}
                    | ({"MaxDelaySeconds": 1} if "MaxDelaySeconds" in retrier else {})
                    for retrier in node["Retry"]
                ]
            for value in node.values():
                shorten(value)
        elif isinstance(node, list):
            for value in node:
                shorten(value)
        return node

    return json.dumps(shorten(json.loads(definition)))


def _forget_disabled_metrics() -> None:
    """Metrics are off locally (POWERTOOLS_METRICS_DISABLED), yet Powertools prints the cold-start
    metric all the same, warns on every empty flush, and a disabled flush keeps the values until a
    metric holds 100 of them, which are then printed: EMF lines in the shell of `talkshop local` and
    `talkshop simulate`. While metrics are disabled, a flush now forgets them."""
    cold_start.is_cold_start = False  # the cold-start metric is printed whether disabled or not
    provider = metrics.provider
    if getattr(provider.flush_metrics, "forgets_when_disabled", False):
        return
    flush = provider.flush_metrics

    def flush_or_forget(raise_on_empty_metrics: bool = False) -> None:
        if is_metrics_disabled():
            provider.clear_metrics()
        else:
            flush(raise_on_empty_metrics=raise_on_empty_metrics)

    flush_or_forget.forgets_when_disabled = True  # type: ignore[attr-defined]
    provider.flush_metrics = flush_or_forget  # type: ignore[method-assign]


def _configure_environment(data_dir: Path) -> tuple[str, str]:
    """The variables the Lambda runtime would have, pointing at the local stand-ins."""
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": LOCAL_REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "TALKSHOP_TABLE_NAME": LOCAL_TABLE_NAME,
            EVENT_BUS_NAME_VARIABLE: LOCAL_EVENT_BUS,
            IDEMPOTENCY_TABLE_VARIABLE: LOCAL_IDEMPOTENCY_TABLE,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            SEARCH_BACKEND_VARIABLE: LOCAL_SEARCH,
            SEARCH_INDEX_DIR_VARIABLE: str(data_dir / "search"),
            # Endpoints on this machine (a developer's receiver on 127.0.0.1) are legitimate here.
            ALLOW_LOOPBACK_VARIABLE: "true",
        }
    )
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    # The admin key: the operator's if set, else one generated once and kept in the data dir.
    if os.environ.get("TALKSHOP_ADMIN_KEY"):
        return os.environ["TALKSHOP_ADMIN_KEY"], "from TALKSHOP_ADMIN_KEY"
    key_file = data_dir / "admin-key"
    if not key_file.exists():
        key_file.write_text("tsk_admin_" + secrets.token_urlsafe(24) + "\n")
        key_file.chmod(0o600)
    os.environ["TALKSHOP_ADMIN_KEY"] = key_file.read_text().strip()
    return os.environ["TALKSHOP_ADMIN_KEY"], f"kept in {key_file}"


class LocalAws:
    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR, fast_retries: bool | None = None) -> None:
        self.data_dir = data_dir
        self.fast_retries = (
            os.environ.get(FAST_RETRIES_VARIABLE, "").strip().lower() in ("1", "true", "yes")
            if fast_retries is None
            else fast_retries
        )
        # The EventBridge events whose webhook_delivery executions are still to start (see the module).
        self._webhook_events: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._webhook_starter: threading.Thread | None = None
        self._stepfunctions: SFNClient | None = None
        self._lock: IO[str] | None = None
        # One invocation at a time in this process: requests, the sweeper, the state machines' steps.
        self.lock = lambdas.InvocationLock()
        self._mock = mock_aws(config=stepfunctions.MOTO_CONFIG)
        self.journal: TableJournal | None = None
        self.admin_key = ""
        self.admin_key_source = ""
        # True when the data dir held no data: the local server then loads the demo catalog.
        self.fresh = False

    def __enter__(self) -> LocalAws:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        # Owner only: the journal holds webhook signing secrets and the admin key file is here.
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = (self.data_dir / "lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._lock.close()
            self._lock = None
            raise DataDirInUse(
                f"{self.data_dir} is in use by another Talkshop process (is `talkshop local` running?)."
            ) from error
        self.admin_key, self.admin_key_source = _configure_environment(self.data_dir)
        _forget_disabled_metrics()
        context.reset()
        moto_tuning.install()
        stepfunctions.install(caller_waits=self.lock.lent)
        self._mock.start()
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, LOCAL_TABLE_NAME)
        create_idempotency_table(dynamodb, LOCAL_IDEMPOTENCY_TABLE)
        boto3.client("events").create_event_bus(Name=LOCAL_EVENT_BUS)
        # An explicit endpoint with its trailing slash: moto routes DynamoDB Streams calls only by
        # a URL ending in "/", which botocore's default endpoint no longer has.
        streams = boto3.client(
            "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{LOCAL_REGION}.amazonaws.com/"
        )
        self._start_state_machines()
        self.journal = TableJournal(self.data_dir / "dynamodb", LOCAL_TABLE_NAME, dynamodb, streams)
        self.fresh = self.journal.restore() == 0
        self._reconcile_search_index()

    def _start_state_machines(self) -> None:
        """The state machines from statemachines/*.asl.json, their Lambda steps run in this process;
        each caller finds its state machine's ARN in the variable the CDK app sets on AWS."""
        client = boto3.client("stepfunctions")
        arns = stepfunctions.start_state_machines(
            client, STATE_MACHINES, self.lock.step, LOCAL_REGION, DEFAULT_ACCOUNT_ID
        )
        for spec in STATE_MACHINES:
            os.environ[spec.arn_variable] = arns[spec.name]
        get_settings.cache_clear()
        webhook_delivery = arns[WEBHOOK_DELIVERY.name]
        if self.fast_retries:
            definition = client.describe_state_machine(stateMachineArn=webhook_delivery)["definition"]
            client.update_state_machine(
                stateMachineArn=webhook_delivery, definition=with_fast_retries(definition)
            )
        self._stepfunctions = client
        self._webhook_starter = threading.Thread(
            target=self._start_webhook_deliveries, args=(client, webhook_delivery), daemon=True
        )
        self._webhook_starter.start()

    def _start_webhook_deliveries(self, client: SFNClient, state_machine_arn: str) -> None:
        """The local stand-in for the EventBridge rule's target: one execution per queued event, started
        without waiting for it and without the invocation lock (its steps take the lock themselves)."""
        while (event := self._webhook_events.get()) is not None:  # None: _STOP_STARTING
            try:
                # Named after the EventBridge event, as unique as the names EventBridge gives.
                client.start_execution(
                    stateMachineArn=state_machine_arn, name=str(event["id"]), input=json.dumps(event)
                )
            except Exception as error:  # one event lost must not stop the others (EventBridge retries)
                logging.getLogger(__name__).warning("webhook delivery not started: %r", error)

    def persist(self) -> None:
        """Make every change so far durable, searchable and published (called after each state-
        changing request): the stream records go to the journal, then through the same indexer and
        event publisher as on AWS (events to the local bus)."""
        if not self.journal:
            return
        records = self.journal.capture()
        if records:
            from talkshop.data.repository import entity_changes

            report = context.search_indexer().apply(entity_changes(records))
            if report.indexed or report.removed:
                self._save_search_index()
            published = context.event_publisher().publish(records)
            self._trigger_webhooks(records, set(published.failed))
            if self._count_analytics(records, set(published.failed)):
                self.journal.capture()  # the metric items just written: durable like the rest

    def _trigger_webhooks(self, records: list[dict[str, Any]], failed: set[str]) -> None:
        """What the EventBridge rule does on AWS: every order event endpoints may subscribe to that went
        onto the bus starts a webhook delivery (queued here, started by the starter thread)."""
        for recorded in recorded_events(records):
            if recorded.event.type.value in SUBSCRIBABLE_EVENTS and recorded.sequence_number not in failed:
                self._webhook_events.put(eventbridge_event(recorded.event, LOCAL_REGION, DEFAULT_ACCOUNT_ID))

    def _count_analytics(self, records: list[dict[str, Any]], failed: set[str]) -> int:
        """What the analytics rule does on AWS: every event that went onto the bus is handed to the
        analytics_consumer handler. One it fails on is logged and skipped (on AWS: retried, then
        dead-lettered); `talkshop analytics rebuild` recounts everything. Returns the events handed."""
        handler = handler_for(ANALYTICS_CONSUMER)
        handed = 0
        for recorded in recorded_events(records):
            if recorded.sequence_number in failed:
                continue
            bus_event = eventbridge_event(recorded.event, LOCAL_REGION, DEFAULT_ACCOUNT_ID)
            lambda_context = LocalLambdaContext(
                ANALYTICS_CONSUMER.name, ANALYTICS_CONSUMER.timeout_s, ANALYTICS_CONSUMER.memory_mb
            )
            handed += 1
            try:
                handler(bus_event, lambda_context)
            except Exception as error:  # one event not counted must not fail the request that made it
                logging.getLogger(__name__).warning(
                    "analytics did not count %s: %r", recorded.event.id, error
                )
        return handed

    def _reconcile_search_index(self) -> None:
        """Bring the saved index in line with the restored table: index every product (vectors of
        unchanged texts are reused, so this costs an embedding only for what changed) and drop
        what the table no longer has. A lost or stale index file therefore heals at start."""
        index = self._search_index()
        products = context.catalog().all_products()
        context.search_indexer().index_products(products)
        index.delete([known for known in index.ids() if known not in {product.id for product in products}])
        self._save_search_index()

    def _save_search_index(self) -> None:
        self._search_index().save(self.search_dir)

    @staticmethod
    def _search_index() -> LocalSearchIndex:
        from talkshop.search.local_index import LocalSearchIndex

        index = context.search_index()
        assert isinstance(index, LocalSearchIndex), "the local runtime configures the local search backend"
        return index

    def _stop_webhook_deliveries(self) -> None:
        """Start what is queued, then stop the executions still running (retrying): their steps must
        not outlive the mock. A restart does not resume them; redeliver from the API."""
        if self._webhook_starter is None or self._stepfunctions is None:
            return
        self._webhook_events.put(_STOP_STARTING)
        self._webhook_starter.join(timeout=10)
        self._webhook_starter = None
        arn = os.environ.get(WEBHOOK_DELIVERY.arn_variable, "")
        running = self._stepfunctions.list_executions(stateMachineArn=arn, statusFilter="RUNNING")
        for execution in running["executions"]:
            self._stepfunctions.stop_execution(
                executionArn=execution["executionArn"], cause="The local runtime stopped."
            )

    @property
    def search_dir(self) -> Path:
        return self.data_dir / "search"

    def stop(self) -> None:
        if self.journal:
            self.persist()
            self.journal.compact()
            self.journal = None
        self._stop_webhook_deliveries()
        lambdas.uninstall()
        self._mock.stop()
        if self._lock:
            self._lock.close()
            self._lock = None
