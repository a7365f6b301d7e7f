"""`talkshop experiments ...` and `talkshop learn` on a temporary data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_cli import _isolated_environment, data_dir, talkshop

__all__ = ["_isolated_environment", "data_dir"]  # the fixtures this module uses from test_cli


def test_an_experiment_from_the_command_line(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    arms = ["--arm", "control:60", "--arm", "rating-first:40:rating=1.5,bestseller=0.9"]
    started = talkshop(
        capsys, "experiments", "start", "--name", "Rating first", *arms, "--data-dir", data_dir
    )
    assert started.code == 0, started.err
    experiment = json.loads(started.out)
    assert [arm["traffic"] for arm in experiment["arms"]] == [60, 40]
    assert experiment["arms"][1]["weights"] == {"rating": 1.5, "bestseller": 0.9}

    listed = talkshop(capsys, "experiments", "list", "--data-dir", data_dir)
    assert experiment["id"] in listed.out
    assert "running" in listed.out
    report = talkshop(capsys, "experiments", "report", experiment["id"], "--data-dir", data_dir)
    assert report.code == 0, report.err
    assert "rating-first" in report.out
    assert "vs control +0.00%" in report.out
    assert talkshop(capsys, "experiments", "stop", experiment["id"], "--data-dir", data_dir).code == 0
    again = talkshop(capsys, "experiments", "stop", experiment["id"], "--data-dir", data_dir)
    assert again.code == 2
    assert "experiment_stopped" in again.err

    bad = talkshop(
        capsys,
        "experiments",
        "start",
        "--name",
        "x",
        "--arm",
        "control:50",
        "--arm",
        "b:50:skill=99",
        "--data-dir",
        data_dir,
    )
    assert bad.code == 2
    assert "between 0 and 9" in bad.err


def test_learning_from_the_command_line(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    shown = talkshop(capsys, "learn", "--show", "--data-dir", data_dir)
    assert json.loads(shown.out)["current"]["version"] == 0
    refused = talkshop(capsys, "learn", "--days", "7", "--data-dir", data_dir)
    assert refused.code == 2
    assert "not_enough_outcomes" in refused.err
    rollback = talkshop(capsys, "learn", "--rollback", "0", "--data-dir", data_dir)
    assert "not_an_earlier_version" in rollback.err
