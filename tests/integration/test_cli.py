"""The `talkshop` command in-process, on a temporary data dir (LocalAws starts moto itself)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from talkshop import cli
from talkshop.advisor.chat_api import StartChatRequest
from talkshop.advisor.service import ChatSessions
from talkshop.advisor.store import ConversationStore
from talkshop.api import context
from talkshop.api.openapi import openapi_document
from talkshop.auth import ADMIN, API_KEY_PREFIX, Principal, PrincipalKind, authenticate
from talkshop.clock import utc_now
from talkshop.errors import Unauthorized
from talkshop.local.runtime import LOCAL_TABLE_NAME, LocalAws
from talkshop.local.server import LocalGateway, sweep_idle_chats
from talkshop.settings import get_settings

FIXTURES = Path(__file__).parent.parent / "fixtures"
KEY_LINE = "API key (shown once, store it now): "

# Every variable LocalAws writes into os.environ: set here through monkeypatch so that each is put
# back as it was when the test ends.
LOCAL_AWS_VARIABLES = (
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "TALKSHOP_TABLE_NAME",
    "TALKSHOP_ADMIN_KEY",
    "POWERTOOLS_TRACE_DISABLED",
    "POWERTOOLS_METRICS_DISABLED",
    "POWERTOOLS_LOG_LEVEL",
)


def _clear_caches() -> None:
    for cached in (get_settings, context.repository, context.catalog):
        cached.cache_clear()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in LOCAL_AWS_VARIABLES:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "TalkshopTest")
    _clear_caches()
    yield
    _clear_caches()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def talkshop(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Run:
    capsys.readouterr()
    _clear_caches()
    try:
        code = cli.main([str(arg) for arg in argv])
    finally:
        _clear_caches()
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def issued_keys(output: str) -> list[str]:
    return [line.split(": ", 1)[1].strip() for line in output.splitlines() if "(shown once" in line]


def table_items(data_dir: Path) -> list[dict[str, Any]]:
    """The data dir's table as a stopped LocalAws leaves it: all in the snapshot, the journal empty."""
    storage = data_dir / "dynamodb"
    assert (storage / f"{LOCAL_TABLE_NAME}.journal.jsonl").read_text() == ""
    items: list[dict[str, Any]] = json.loads((storage / f"{LOCAL_TABLE_NAME}.snapshot.json").read_text())
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def principal_for(data_dir: Path, key: str) -> Principal:
    _clear_caches()
    try:
        with LocalAws(data_dir):
            return authenticate(f"Bearer {key}", context.repository(), get_settings())
    finally:
        _clear_caches()


def test_creator_add_prints_a_key_once_and_the_key_works(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    added = talkshop(capsys, "creator", "add", "Padel Pro", "--id", "padel-pro", "--data-dir", data_dir)
    assert added.code == 0, added.err
    assert "Creator 'padel-pro' (Padel Pro) created." in added.out
    keys = issued_keys(added.out)
    assert len(keys) == 1
    key = keys[0]
    assert key.startswith(API_KEY_PREFIX)
    assert added.out.count(key) == 1
    assert key not in added.err

    # The key is stored as a digest only: no file of the data dir holds it.
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert key.removeprefix(API_KEY_PREFIX).encode() not in path.read_bytes()

    assert principal_for(data_dir, key) == Principal(PrincipalKind.CREATOR, "padel-pro")

    again = talkshop(capsys, "creator", "add", "Padel Pro", "--id", "padel-pro", "--data-dir", data_dir)
    assert again.code == 2
    assert "creator_exists" in again.err
    assert issued_keys(again.out) == []


def test_creator_key_issues_another_working_key(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    first = issued_keys(talkshop(capsys, "creator", "add", "Court Craft", "--data-dir", data_dir).out)[0]
    issued = talkshop(capsys, "creator", "key", "court-craft", "--data-dir", data_dir)
    assert issued.code == 0, issued.err
    second = issued_keys(issued.out)
    assert len(second) == 1
    assert second[0] != first
    assert principal_for(data_dir, first).person_id == "court-craft"
    assert principal_for(data_dir, second[0]).person_id == "court-craft"
    with pytest.raises(Unauthorized):
        principal_for(data_dir, first + "x")


def test_creator_key_for_an_unknown_creator_exits_2(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    result = talkshop(capsys, "creator", "key", "UNKNOWN", "--data-dir", data_dir)
    assert result.code == 2
    assert "error (creator_not_found)" in result.err
    assert "UNKNOWN" in result.err
    assert result.out == ""


def test_import_then_reimport(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    source = FIXTURES / "import-products.json"
    first = talkshop(capsys, "import", source, "--data-dir", data_dir)
    assert first.code == 0, first.err
    assert first.out.strip() == (f"Imported {source}: 3 created, 0 updated, 0 unchanged; 2 new creator(s).")
    after_first = table_items(data_dir)
    assert any(item["PK"]["S"] == "THING#product#alpha-round" for item in after_first)

    second = talkshop(capsys, "import", source, "--data-dir", data_dir)
    assert second.code == 0, second.err
    assert "0 created, 0 updated, 3 unchanged; 0 new creator(s)" in second.out
    assert table_items(data_dir) == after_first


def test_a_bad_import_exits_2_names_the_line_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    assert talkshop(capsys, "import", FIXTURES / "import-products.json", "--data-dir", data_dir).code == 0
    before = table_items(data_dir)

    rows = json.loads((FIXTURES / "import-products.json").read_text())
    rows[0]["price"] = 1  # a valid change that must not be written either
    rows.append({**rows[1], "id": "bad-row", "price": -5})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rows, indent=2))
    bad_line = next(
        number for number, line in enumerate(bad.read_text().splitlines(), 1) if '"bad-row"' in line
    )
    row_start = max(
        number
        for number, line in enumerate(bad.read_text().splitlines(), 1)
        if line.strip() == "{" and number < bad_line
    )

    result = talkshop(capsys, "import", bad, "--data-dir", data_dir)
    assert result.code == 2
    assert result.out == ""
    assert "error (import_rejected)" in result.err
    assert f"line {row_start}: price" in result.err
    assert table_items(data_dir) == before


def test_the_data_dir_is_locked_while_in_use(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    with LocalAws(data_dir):
        result = talkshop(capsys, "creator", "add", "Padel Pro", "--data-dir", data_dir)
    assert result.code == 2
    assert "error (data_dir_in_use)" in result.err
    assert "in use" in result.err


def test_openapi_to_stdout_and_to_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    printed = talkshop(capsys, "openapi")
    assert printed.code == 0
    assert json.loads(printed.out) == json.loads(json.dumps(openapi_document()))
    target = tmp_path / "openapi.json"
    written = talkshop(capsys, "openapi", "--output", target)
    assert written.code == 0
    assert written.out == ""
    assert target.read_text() == printed.out


@pytest.mark.parametrize(
    "argv",
    [("creator", "add", "Padel Pro", "--id", "bad#id"), ("creator", "key", "bad id")],
    ids=["add", "key"],
)
def test_an_invalid_creator_id_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], data_dir: Path, argv: tuple[str, ...]
) -> None:
    try:
        result = talkshop(capsys, *argv, "--data-dir", data_dir)
    except Exception as error:
        pytest.fail(f"the command raised {type(error).__name__} instead of reporting an error")
    assert result.code == 2
    assert result.err.startswith("error (")


def test_importing_a_missing_file_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    try:
        result = talkshop(capsys, "import", tmp_path / "missing.json", "--data-dir", data_dir)
    except Exception as error:
        pytest.fail(f"the command raised {type(error).__name__} instead of reporting an error")
    assert result.code == 2
    assert "missing.json" in result.err


def test_creator_revoke_stops_every_key_of_that_creator(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    key = issued_keys(talkshop(capsys, "creator", "add", "Court Craft", "--data-dir", data_dir).out)[0]
    revoked = talkshop(capsys, "creator", "revoke", "court-craft", "--data-dir", data_dir)
    assert revoked.code == 0, revoked.err
    assert "Revoked 1 API key(s) of 'court-craft'" in revoked.out
    with pytest.raises(Unauthorized):
        principal_for(data_dir, key)
    unknown = talkshop(capsys, "creator", "revoke", "nobody", "--data-dir", data_dir)
    assert unknown.code == 2
    assert "creator_not_found" in unknown.err


def test_aws_target_needs_the_table_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALKSHOP_TABLE_NAME", raising=False)
    refused = talkshop(capsys, "creator", "key", "anyone", "--aws")
    assert refused.code == 2
    assert "TALKSHOP_TABLE_NAME" in refused.err


def test_search_and_reindex_commands(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    assert talkshop(capsys, "import", FIXTURES / "import-products.json", "--data-dir", data_dir).code == 0
    found = talkshop(capsys, "search", "grip pack under 10 euros", "--data-dir", data_dir)
    assert found.code == 0, found.err
    assert found.out.splitlines()[0].startswith("1. Grip Pack (Brisa) €8.99, in stock (40)")
    assert "Filters: price up to €10.00." in found.out
    as_json = talkshop(capsys, "search", "grip", "--json", "--data-dir", data_dir)
    assert json.loads(as_json.out)["products"][0]["id"] == "grip-pack"
    reindexed = talkshop(capsys, "reindex", "--data-dir", data_dir)
    assert reindexed.code == 0
    assert "Indexed 3 product(s) (0 embedded, 3 reused)" in reindexed.out
    assert talkshop(capsys, "search", "", "--data-dir", data_dir).code == 2


def test_the_local_server_sweeps_idle_chats_through_the_sweeper_function_and_saves_them(
    data_dir: Path,
) -> None:
    an_hour_ago = utc_now() - timedelta(hours=1)
    with LocalAws(data_dir) as aws:
        context.reset()
        sessions = ChatSessions(ConversationStore(context.repository()), clock=lambda: an_hour_ago)
        idle = sessions.start(StartChatRequest(user_id="idle-shopper"), ADMIN)
        fresh = context.chat_sessions().start(StartChatRequest(user_id="busy-shopper"), ADMIN)
        aws.persist()
        gateway = LocalGateway(("127.0.0.1", 0), aws, quiet=True)
        try:
            assert sweep_idle_chats(gateway) == 1
            assert sweep_idle_chats(gateway) == 0  # already abandoned: nothing to do the second time
        finally:
            gateway.server_close()
    context.reset()
    with LocalAws(data_dir):  # what the restarted runtime reads back from the data dir
        context.reset()
        statuses = {
            chat.id: context.chat_sessions().get(chat.id, ADMIN).status.value for chat in (idle, fresh)
        }
    context.reset()
    assert statuses == {idle.id: "abandoned", fresh.id: "active"}


def test_the_sweep_command_abandons_idle_chats(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    with LocalAws(data_dir):
        context.reset()
        sessions = ChatSessions(
            ConversationStore(context.repository()), clock=lambda: utc_now() - timedelta(hours=1)
        )
        sessions.start(StartChatRequest(user_id="idle-shopper"), ADMIN)
    context.reset()

    assert talkshop(capsys, "sweep", "--data-dir", data_dir).out == "Marked 1 idle chat(s) as abandoned.\n"
    assert talkshop(capsys, "sweep", "--data-dir", data_dir).out == "Marked 0 idle chat(s) as abandoned.\n"


def test_commands_run_numpy_without_the_openblas_thread_pool(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "")  # put back as it was when the test ends
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")

    assert cli.main(["openapi", "--output", str(tmp_path / "openapi.json")]) == 0

    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"


def test_the_local_runtime_prints_no_metrics(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    """Metrics are off locally: no EMF line in the shell, not even the cold start, nor the values that a
    disabled flush used to keep until a metric held 100 (Powertools prints those, disabled or not)."""
    from aws_lambda_powertools.metrics.provider import cold_start

    from talkshop.api.observability import metrics
    from talkshop.local.apigateway import LocalLambdaContext

    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> None:
        metrics.add_metric(name="Counted", unit="Count", value=1)

    cold_start.is_cold_start = True
    with LocalAws(data_dir):
        capsys.readouterr()
        for _ in range(101):
            handler({}, LocalLambdaContext("metrics_test", timeout_s=3))
        printed = capsys.readouterr()

    assert printed.out == ""
    assert "No application metrics" not in printed.err
