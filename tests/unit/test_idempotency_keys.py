"""The API's one Idempotency-Key mechanism (talkshop.api.idempotency.run_once, Powertools idempotency on
the idempotency table) on its own: replays, another body under a used key, a retry while the first
request runs, and the answers that are not recorded."""

from __future__ import annotations

from typing import Any

import pytest

from talkshop.api.idempotency import KeyInFlight, KeyReused, Outcome, Unrecorded, run_once, valid_key


class Context:
    """A Lambda invocation with time left: a key it holds stays in flight while it runs."""

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def counting() -> tuple[list[int], Any]:
    calls: list[int] = []

    def handle() -> dict[str, Any]:
        calls.append(1)
        return {"status": 201, "run": len(calls)}

    return calls, handle


def test_a_replay_answers_the_first_answer_and_runs_nothing(table: Any) -> None:
    calls, handle = counting()
    first = run_once("acp:create:", "agent:agt_1", "k1", {"a": 1, "b": [1, 2]}, handle, Context())
    assert first == Outcome({"status": 201, "run": 1}, replayed=False)
    # Key order does not make another body.
    again = run_once("acp:create:", "agent:agt_1", "k1", {"b": [1, 2], "a": 1}, handle, Context())
    assert again == Outcome({"status": 201, "run": 1}, replayed=True)
    assert len(calls) == 1
    # A key is scoped to the caller and the operation.
    assert not run_once("acp:create:", "agent:agt_2", "k1", {"a": 1, "b": [1, 2]}, handle).replayed
    assert not run_once("acp:update:cs_1", "agent:agt_1", "k1", {"a": 1, "b": [1, 2]}, handle).replayed
    assert len(calls) == 3


def test_the_same_key_with_another_body_is_refused(table: Any) -> None:
    calls, handle = counting()
    run_once("op", "agent:agt_1", "k1", {"a": 1}, handle, Context())
    with pytest.raises(KeyReused):
        run_once("op", "agent:agt_1", "k1", {"a": 2}, handle, Context())
    assert len(calls) == 1


def test_a_retry_while_the_first_runs_is_in_flight(table: Any) -> None:
    refused: list[Exception] = []

    def first() -> dict[str, Any]:
        try:
            run_once("op", "agent:agt_1", "k1", {"a": 1}, lambda: {"second": True}, Context())
        except KeyInFlight as error:
            refused.append(error)
        return {"first": True}

    assert run_once("op", "agent:agt_1", "k1", {"a": 1}, first, Context()).answer == {"first": True}
    assert len(refused) == 1
    # Once the first is done, a retry is its replay.
    assert run_once("op", "agent:agt_1", "k1", {"a": 1}, first, Context()).replayed


def test_unrecorded_answers_and_failures_leave_the_key_free(table: Any) -> None:
    def unavailable() -> dict[str, Any]:
        raise Unrecorded({"status": 503})

    assert run_once("op", "agent:agt_1", "k1", {}, unavailable) == Outcome({"status": 503}, replayed=False)
    assert run_once("op", "agent:agt_1", "k1", {}, lambda: {"status": 200}) == Outcome(
        {"status": 200}, replayed=False
    )

    def crash() -> dict[str, Any]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run_once("op", "agent:agt_1", "k2", {}, crash)
    assert run_once("op", "agent:agt_1", "k2", {}, lambda: {"status": 200}).replayed is False


def test_valid_keys() -> None:
    assert valid_key("550e8400-e29b-41d4-a716-446655440000")
    assert valid_key("k" * 255)
    assert not valid_key("k" * 256)
    assert not valid_key("")
    assert not valid_key("line\nbreak")
