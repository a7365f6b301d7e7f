"""Unzipped size of each Lambda function of a synthesized stack: its code plus all its layers.

Lambda refuses a function whose code and layers together exceed 250 MB unzipped (262,144,000 bytes), and
only at deploy time. ``infra/app.py`` measures the bundled assets in the cloud assembly right after
synthesis instead. Pure functions over the template and the assembly folder (no aws_cdk import).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.bundling import directory_size

#: Lambda's quota "deployment package size, unzipped, including layers": 250 MB.
LAMBDA_UNZIPPED_LIMIT = 262_144_000


@dataclass(frozen=True)
class FunctionSize:
    """Bytes of a function's code asset and of each of its layers (by logical ID)."""

    logical_id: str
    code_bytes: int
    layer_bytes: dict[str, int] = field(default_factory=dict)
    #: False when an asset was not bundled into the assembly (e.g. a synth that skips bundling).
    complete: bool = True

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + sum(self.layer_bytes.values())


def _asset_bytes(s3_key: object, assembly_dir: Path) -> int | None:
    """Size of the staged asset ``asset.<hash>`` behind an ``<hash>.zip`` S3 key, None if absent."""
    if not isinstance(s3_key, str) or not s3_key.endswith(".zip"):
        return None
    path = assembly_dir / f"asset.{s3_key.removesuffix('.zip')}"
    return directory_size(path) if path.is_dir() else None


def function_sizes(template: Mapping[str, Any], assembly_dir: Path) -> list[FunctionSize]:
    """Every ``AWS::Lambda::Function`` with an S3 code asset, measured from the assembly's asset folders."""
    resources: Mapping[str, Any] = template.get("Resources", {})
    layers = {
        logical_id: _asset_bytes(resource["Properties"].get("Content", {}).get("S3Key"), assembly_dir)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::LayerVersion"
    }
    found: list[FunctionSize] = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties = resource["Properties"]
        s3_key = properties.get("Code", {}).get("S3Key")
        if s3_key is None:
            continue  # inline code (ZipFile) or an image
        code = _asset_bytes(s3_key, assembly_dir)
        layer_ids = [
            ref["Ref"] for ref in properties.get("Layers", []) if isinstance(ref, dict) and "Ref" in ref
        ]
        layer_sizes = {layer_id: layers.get(layer_id) for layer_id in layer_ids}
        complete = code is not None and all(size is not None for size in layer_sizes.values())
        found.append(
            FunctionSize(
                logical_id=logical_id,
                code_bytes=code or 0,
                layer_bytes={layer_id: size or 0 for layer_id, size in layer_sizes.items()},
                complete=complete,
            )
        )
    return found


def over_limit(sizes: list[FunctionSize], limit: int = LAMBDA_UNZIPPED_LIMIT) -> list[FunctionSize]:
    return [size for size in sizes if size.complete and size.total_bytes > limit]


def check_limit(sizes: list[FunctionSize], limit: int = LAMBDA_UNZIPPED_LIMIT) -> None:
    """Raise when a measured function would be refused by Lambda."""
    too_big = over_limit(sizes, limit)
    if too_big:
        names = ", ".join(f"{size.logical_id} ({size.total_bytes:,} bytes)" for size in too_big)
        raise ValueError(f"over Lambda's unzipped limit of {limit:,} bytes (code + layers): {names}")


def format_report(stack_name: str, sizes: list[FunctionSize], limit: int = LAMBDA_UNZIPPED_LIMIT) -> str:
    """One line per function: total, code, layers, in MiB (or why it was not measured)."""
    lines = [f"{stack_name}: unzipped code + layers per function (Lambda's limit: {limit / 2**20:.1f} MiB)"]
    for size in sorted(sizes, key=lambda s: s.logical_id):
        if not size.complete:
            lines.append(f"  {size.logical_id}: not measured (assets not bundled)")
            continue
        layers = ", ".join(f"{layer} {b / 2**20:.1f}" for layer, b in size.layer_bytes.items())
        lines.append(
            f"  {size.logical_id}: {size.total_bytes / 2**20:.1f} MiB "
            f"(code {size.code_bytes / 2**20:.2f}; layers {layers or 'none'})"
        )
    return "\n".join(lines)
