"""The local stand-in for the AWS account: moto services in this process, persisted to a data dir.

`LocalAws` is used by `talkshop local` and by the CLI's data commands, so both see the same data.
Only one process may own a data dir at a time (an exclusive lock file says so clearly).
"""

from __future__ import annotations

import fcntl
import os
import secrets
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

import boto3
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID

from talkshop.api import context
from talkshop.api.state_machines import STATE_MACHINES
from talkshop.errors import TalkshopError
from talkshop.local import lambdas, moto_tuning, stepfunctions
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
    from talkshop.search.local_index import LocalSearchIndex

DEFAULT_DATA_DIR = Path(".talkshop")
LOCAL_TABLE_NAME = "talkshop"
LOCAL_REGION = "eu-west-1"
LOCAL_EVENT_BUS = "talkshop-local"
# Idempotency-Key records are not journalled: like their 24-hour expiry, a restart forgets them.
LOCAL_IDEMPOTENCY_TABLE = "talkshop-idempotency"


class DataDirInUse(TalkshopError):
    code = "data_dir_in_use"


def demo_catalog_path() -> Path:
    return Path(str(resources.files("talkshop") / "demo" / "catalog.json"))


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
    def __init__(self, data_dir: Path = DEFAULT_DATA_DIR) -> None:
        self.data_dir = data_dir
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
        self.data_dir.mkdir(parents=True, exist_ok=True)
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
        arns = stepfunctions.start_state_machines(
            boto3.client("stepfunctions"), STATE_MACHINES, self.lock.step, LOCAL_REGION, DEFAULT_ACCOUNT_ID
        )
        for spec in STATE_MACHINES:
            os.environ[spec.arn_variable] = arns[spec.name]
        get_settings.cache_clear()

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
            context.event_publisher().publish(records)

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

    @property
    def search_dir(self) -> Path:
        return self.data_dir / "search"

    def stop(self) -> None:
        if self.journal:
            self.persist()
            self.journal.compact()
            self.journal = None
        lambdas.uninstall()
        self._mock.stop()
        if self._lock:
            self._lock.close()
            self._lock = None
