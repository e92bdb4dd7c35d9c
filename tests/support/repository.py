"""A copy of the repository to run commands in, as a developer would, without touching the working tree."""

from __future__ import annotations

import shutil
from pathlib import Path

from tools.registry import ROOT

# What a `git clone` does not have: the environment, local state, caches, deployment records.
NOT_COPIED = (".git", ".venv", ".local", "test-artifacts", "__pycache__", "*_cache", "deployed", "deployments")


def fresh_clone(target: Path) -> Path:
    """The working tree copied to ``target`` as `git clone` gives it (links kept: vendor/servicekit stays relative)."""
    shutil.copytree(ROOT, target, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
    return target


def copy(target: Path) -> Path:
    """A fresh clone at ``target`` with this .venv linked in.

    The commands `make run` prints start with .venv/bin/python: the copy uses the same environment.
    """
    fresh_clone(target)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target
