"""The local stage's defaults: found from where the process runs, never from where the library's file sits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servicekit import env
from tests.support import repository
from tools.registry import ROOT

# What a service run by hand on the local stage resolves, printed by a process of its own.
PROBE = "from servicekit import env; print(env.repository(), env.local_default('AUTH_URL'), env.local_state_dir())"


def _probe(cwd: Path, library: Path) -> list[str]:
    """Run ``PROBE`` in ``cwd`` with ``library`` (the folder holding ``servicekit``) first on the path."""
    environment = {k: v for k, v in os.environ.items() if k not in ("LOCAL_STATE_DIR", "PYTHONPATH")}
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(library)!r}); {PROBE}"],
        cwd=cwd,
        env={**environment, "STAGE": env.LOCAL_STAGE},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_a_copy_of_the_library_inside_a_service_finds_the_repository_from_the_service_folder(tmp_path: Path) -> None:
    # GIVEN a clone whose location service has a copy of the shared library, as the pipeline's build makes it
    root = repository.fresh_clone(tmp_path / "clone")
    vendor = root / "location-service" / "vendor"
    (vendor / "servicekit").unlink()
    shutil.copytree(root / "shared" / "servicekit", vendor / "servicekit")

    # WHEN the service, run from its folder as `chalice local` runs it, asks for its local defaults
    found, auth_url, state_dir = _probe(root / "location-service", vendor)

    # THEN they are the repository's, not the service folder's
    assert found == str(root)
    assert auth_url == "http://127.0.0.1:8001"
    assert state_dir == str(root / ".local")


def test_outside_a_repository_there_are_no_local_defaults(tmp_path: Path) -> None:
    found, auth_url, state_dir = _probe(tmp_path, ROOT / "shared")

    assert (found, auth_url) == ("None", "None")
    assert state_dir == str(tmp_path / ".local")


def test_the_state_folder_the_local_stack_names_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))

    assert env.local_state_dir() == str(tmp_path)
    assert env.local_secret("auth", "signing-keys") == f"file:{tmp_path / 'auth-signing-keys'}"
