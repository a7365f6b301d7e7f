"""Locations in the repository that the CDK app packages as assets (absolute, whatever the cwd is)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = REPO_ROOT / "pyproject.toml"
#: Asset source of the layer; holds the ``talkshop`` package.
LAYERS_DIR = REPO_ROOT / "layers"
TALKSHOP_PACKAGE_DIR = LAYERS_DIR / "talkshop"
#: ``functions/<name>/handler.py`` is the code asset of the function ``<name>``.
FUNCTIONS_DIR = REPO_ROOT / "functions"
