"""A copy of the repository to run commands in, as a developer would, without touching the working tree."""

from __future__ import annotations

import shutil
from pathlib import Path

from tools.registry import ROOT

NOT_COPIED = (".git", ".venv", ".local", "test-artifacts", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache")


def copy(target: Path) -> Path:
    """The working tree copied to ``target`` (links kept: vendor/servicekit stays relative), this .venv linked in.

    The commands `make run` prints start with .venv/bin/python: the copy uses the same environment.
    """
    shutil.copytree(ROOT, target, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target
