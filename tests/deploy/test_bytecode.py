"""Bytecode in the deployment package: tools.bytecode on what `chalice package` made, as the build runs it."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.deploy.conftest import Packaged
from tests.support import services
from tools import bytecode

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("package")]

NOT_PYTHON = "this line is not Python (\n"
# The header of an unchecked-hash .pyc (PEP 552): magic, flags = hash-based and not checked, hash.
HASH_BASED, CHECK_SOURCE = 0b01, 0b10


def _run(zip_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tools.bytecode``, as the pipeline's build runs it."""
    return subprocess.run(
        [sys.executable, "-m", "tools.bytecode", str(zip_path), *args],
        cwd=services.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy(packaged: Packaged, folder: Path) -> Path:
    """The package's zip and sam.json in ``folder`` (the session's own stay untouched); returns the zip."""
    folder.mkdir(parents=True)
    shutil.copy(packaged.zip_path.with_name("sam.json"), folder / "sam.json")
    return Path(shutil.copy(packaged.zip_path, folder / "deployment.zip"))


def _pyc_name(source: str) -> str:
    return Path(importlib.util.cache_from_source(source, optimization="")).as_posix()


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_module_of_the_package_gets_its_bytecode_and_every_entry_stays_as_it_was(
    name: str, packaged: dict[str, Packaged], tmp_path: Path
) -> None:
    # GIVEN the service as chalice package zipped it, with a stale .pyc of the developer's tree
    # (chalice package copies the project's __pycache__ folders)
    zip_path = _copy(packaged[name], tmp_path / name)
    stale = _pyc_name("chalicelib/settings.py")
    with zipfile.ZipFile(zip_path, "a") as archive:
        if stale not in archive.namelist():  # else the working tree's own is there already
            archive.writestr(stale, b"stale bytecode of another Python")
    with zipfile.ZipFile(zip_path) as archive:
        before = {
            e.filename: (e.CRC, e.file_size, e.external_attr, e.date_time)
            for e in archive.infolist()
            if not e.filename.endswith(".pyc")
        }

    # WHEN the build adds its bytecode
    result = _run(zip_path)

    # THEN every original entry is unchanged, and each module has an unchecked-hash .pyc beside it, no more
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(zip_path) as archive:
        after = {e.filename: (e.CRC, e.file_size, e.external_attr, e.date_time) for e in archive.infolist()}
        modules = [n for n in before if n.endswith(".py")]
        assert {n: after[n] for n in before} == before
        assert sorted(set(after) - set(before)) == sorted(_pyc_name(n) for n in modules)
        for module in modules:
            pyc = archive.read(_pyc_name(module))
            flags = int.from_bytes(pyc[4:8], "little")
            assert flags == HASH_BASED and not flags & CHECK_SOURCE
            # The name the code records is its place on Lambda, not the build's folder.
            code = marshal.loads(pyc[16:])  # noqa: S302 - the bytecode this test just made
            assert code.co_filename == f"{bytecode.TASK_ROOT}/{module}"
    assert f"-> {len(after)} entries" in result.stdout


def test_python_imports_the_service_from_its_bytecode_without_reading_the_sources(
    packaged: dict[str, Packaged], tmp_path: Path
) -> None:
    # GIVEN the location service's package with bytecode, unzipped as Lambda unzips it into /var/task
    zip_path = _copy(packaged["location"], tmp_path / "package")
    assert _run(zip_path).returncode == 0
    task = tmp_path / "task"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task)
    # ... and the sources of its own modules and of the vendored shared library made unreadable to Python
    broken = sorted((task / "chalicelib").glob("*.py")) + sorted((task / "servicekit").glob("*.py"))
    for source in broken:
        source.write_text(NOT_PYTHON)

    # WHEN a fresh interpreter imports app.py there, writing no bytecode of its own (/var/task is read-only)
    env = {**os.environ, "PYTHONPATH": str(task), "PYTHONDONTWRITEBYTECODE": "1"}
    probe = (
        "import app, chalicelib.store, servicekit.tokens; print(chalicelib.store.__cached__); print(app.app.app_name)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=task, env=env, capture_output=True, text=True, timeout=60
    )

    # THEN the import succeeds from the unchecked .pyc files: Python never compared them with the sources
    assert result.returncode == 0, result.stderr
    cached, app_name = result.stdout.split()
    assert Path(cached) == task / _pyc_name("chalicelib/store.py")
    assert app_name == "location-service"
    assert len(broken) > 10


def test_a_package_for_another_python_is_refused_and_left_as_it_was(
    packaged: dict[str, Packaged], tmp_path: Path
) -> None:
    # GIVEN a package whose template says another runtime than the running Python
    zip_path = _copy(packaged["auth"], tmp_path / "package")
    template = zip_path.with_name("sam.json")
    other = "python3.12" if bytecode.running_runtime() != "python3.12" else "python3.11"
    template.write_text(template.read_text().replace(f'"{bytecode.running_runtime()}"', f'"{other}"'))
    original = zip_path.read_bytes()

    # WHEN the build adds bytecode
    result = _run(zip_path)

    # THEN it refuses, naming both versions, and the zip is unchanged
    assert result.returncode == 2
    assert f"the package is for {other} but this is {bytecode.running_runtime()}" in result.stderr
    assert zip_path.read_bytes() == original
    assert json.loads(template.read_text())  # still the template, only its runtime changed


def test_a_module_that_does_not_compile_fails_the_build_naming_it(tmp_path: Path) -> None:
    zip_path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("app.py", "import chalicelib.broken\n")
        archive.writestr("chalicelib/broken.py", NOT_PYTHON)
    original = zip_path.read_bytes()

    result = _run(zip_path, "--runtime", bytecode.running_runtime())

    assert result.returncode == 2
    assert "chalicelib/broken.py does not compile" in result.stderr
    assert zip_path.read_bytes() == original
    assert not zip_path.with_name("deployment.zip.tmp").exists()


def test_a_zip_without_a_template_beside_it_needs_the_runtime_named(tmp_path: Path) -> None:
    zip_path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("app.py", "")

    result = _run(zip_path)

    assert result.returncode == 2
    assert "no sam.json beside" in result.stderr and "--runtime" in result.stderr
