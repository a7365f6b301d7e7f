"""Measuring each function's unzipped code + layers in a cloud assembly (no synthesis, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra import sizes


def _asset(assembly: Path, asset_hash: str, size: int) -> str:
    folder = assembly / f"asset.{asset_hash}" / "python"
    folder.mkdir(parents=True)
    (folder / "blob").write_bytes(b"x" * size)
    return f"{asset_hash}.zip"


def _template(assembly: Path) -> dict[str, Any]:
    return {
        "Resources": {
            "Main": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {"Content": {"S3Key": _asset(assembly, "aa", 100)}},
            },
            "Search": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {"Content": {"S3Key": _asset(assembly, "bb", 1000)}},
            },
            "Reader": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Key": _asset(assembly, "cc", 10)}, "Layers": [{"Ref": "Main"}]},
            },
            "Searcher": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {"S3Key": _asset(assembly, "dd", 1)},
                    "Layers": [{"Ref": "Main"}, {"Ref": "Search"}],
                },
            },
            "Inline": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"ZipFile": "def h(e, c): ..."}},
            },
            "Unbundled": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "ee.zip"}}},
        }
    }


def test_function_sizes_add_code_and_layers(tmp_path: Path) -> None:
    found = {size.logical_id: size for size in sizes.function_sizes(_template(tmp_path), tmp_path)}
    assert set(found) == {"Reader", "Searcher", "Unbundled"}
    assert found["Reader"].total_bytes == 110
    assert found["Searcher"].layer_bytes == {"Main": 100, "Search": 1000}
    assert found["Searcher"].total_bytes == 1101
    assert found["Searcher"].complete
    assert not found["Unbundled"].complete


def test_limit(tmp_path: Path) -> None:
    found = sizes.function_sizes(_template(tmp_path), tmp_path)
    sizes.check_limit(found, limit=1101)
    assert [size.logical_id for size in sizes.over_limit(found, limit=1100)] == ["Searcher"]
    with pytest.raises(ValueError, match=r"Searcher \(1,101 bytes\)"):
        sizes.check_limit(found, limit=1100)
    assert sizes.LAMBDA_UNZIPPED_LIMIT == 250 * 2**20


def test_report(tmp_path: Path) -> None:
    report = sizes.format_report("Talkshop", sizes.function_sizes(_template(tmp_path), tmp_path))
    lines = report.splitlines()
    assert lines[0].startswith("Talkshop: unzipped code + layers per function")
    assert "Unbundled: not measured" in report
    assert any(line.strip().startswith("Searcher: 0.0 MiB") for line in lines)
