"""Bytecode in a Lambda deployment package: a cold start reads modules instead of compiling them.

    python -m tools.bytecode <deployment.zip> [--runtime python3.13]

Wheels carry no bytecode and Lambda's ``/var/task`` is read-only, so without this every
cold start compiles chalice, PyJWT, cryptography's Python parts, servicekit and
chalicelib from source (``docs/performance.md`` measures what that costs). This rewrites
a ``chalice package`` zip in place: every original entry stays as it was (name,
contents, date, permissions) but for the ``.pyc`` files ``chalice package`` copies from
the project's ``__pycache__`` folders, and every ``.py`` gets its ``__pycache__/<name>.<tag>.pyc``
beside it, compiled as unchecked-hash bytecode: Python then uses it without comparing
it with the source, whatever the zip did to the files' times.

A ``.pyc`` of another Python version is ignored, so the running Python must be the
runtime's: the ``Runtime`` of the functions in the ``sam.json`` beside the zip (or
``--runtime``). A module that does not compile fails the build, naming it: none of the
packages these services ship has one. Exit status 2 on any refusal, with the reason.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path

# Where Lambda unpacks the package: the name the compiled modules record for their source.
TASK_ROOT = "/var/task"
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


class BytecodeError(Exception):
    """The package cannot be given bytecode; the message says why."""


def running_runtime() -> str:
    """The Lambda runtime name of the running Python, e.g. ``python3.13``."""
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def runtime_beside(zip_path: Path) -> str:
    """The one ``Runtime`` of the functions in the ``sam.json`` beside ``zip_path``."""
    template = zip_path.with_name("sam.json")
    if not template.is_file():
        raise BytecodeError(f"no sam.json beside {zip_path} to read the runtime from: pass --runtime")
    resources = json.loads(template.read_text()).get("Resources", {})
    runtimes = {
        r["Properties"]["Runtime"]
        for r in resources.values()
        if r.get("Type") in FUNCTION_TYPES and "Runtime" in r.get("Properties", {})
    }
    if len(runtimes) != 1:
        raise BytecodeError(f"{template} names {len(runtimes)} runtimes ({sorted(runtimes)}): pass --runtime")
    return str(runtimes.pop())


def _pyc(source: str) -> str:
    # optimization="" and optimize=0 below: Lambda runs Python without -O, whatever this process does.
    return importlib.util.cache_from_source(source, optimization="")


def compile_file(source: Path, name: str, ddir: str = TASK_ROOT) -> Path:
    """Compile ``source`` (the module ``name``, a relative path) to its unchecked-hash ``.pyc``; returns it."""
    pyc = Path(_pyc(str(source)))
    try:
        py_compile.compile(
            str(source),
            cfile=str(pyc),
            # The name the code records: the package's own place, not this build's folder, so
            # that the bytes do not depend on where the build ran.
            dfile=f"{ddir}/{name}",
            doraise=True,
            optimize=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    except py_compile.PyCompileError as exc:
        last = exc.msg.strip().splitlines()[-1]
        raise BytecodeError(f"{name} does not compile: {last}") from exc
    return pyc


def compile_tree(folder: Path, ddir: str = TASK_ROOT) -> list[Path]:
    """Compile every ``.py`` under ``folder`` (links followed, as the package follows them); returns the ``.pyc``."""
    compiled = []
    for directory, subfolders, names in os.walk(folder, followlinks=True):
        subfolders[:] = sorted(s for s in subfolders if s != "__pycache__")
        for file_name in sorted(n for n in names if n.endswith(".py")):
            source = Path(directory) / file_name
            compiled.append(compile_file(source, source.relative_to(folder).as_posix(), ddir))
    return compiled


def add_bytecode(zip_path: Path, runtime: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rewrite ``zip_path`` with bytecode for ``runtime``; returns (entries, bytes) before and after."""
    if runtime != running_runtime():
        raise BytecodeError(
            f"the package is for {runtime} but this is {running_runtime()} ({sys.executable}): "
            f"Lambda would ignore its bytecode; run this with {runtime}"
        )
    size_before = zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as archive:
        entries = archive.infolist()
        # `chalice package` copies the project's own __pycache__ folders (whatever Python wrote
        # them, timestamp-checked): dropped, every module gets the bytecode made here.
        kept = [e for e in archive.infolist() if not e.filename.endswith(".pyc")]
        sources = [e for e in kept if e.filename.endswith(".py") and not e.is_dir()]
        with tempfile.TemporaryDirectory(prefix="bytecode-") as tmp:
            folder = Path(tmp)
            for entry in sources:
                archive.extract(entry, folder)
            added = []
            for entry in sources:
                pyc = compile_file(folder / entry.filename, entry.filename)
                name = pyc.relative_to(folder).as_posix()
                # The .pyc is a file like its source: same time and permissions.
                info = zipfile.ZipInfo(name, date_time=entry.date_time)
                info.external_attr, info.create_system = entry.external_attr, entry.create_system
                info.compress_type = zipfile.ZIP_DEFLATED
                added.append((info, pyc.read_bytes()))
            rewritten = zip_path.with_name(zip_path.name + ".tmp")
            try:
                with zipfile.ZipFile(rewritten, "w") as out:
                    for entry in kept:
                        out.writestr(entry, archive.read(entry))
                    for info, data in added:
                        out.writestr(info, data)
            except BaseException:
                rewritten.unlink(missing_ok=True)
                raise
    os.replace(rewritten, zip_path)
    return (len(entries), size_before), (len(kept) + len(added), zip_path.stat().st_size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bytecode", description=__doc__.split("\n")[0])
    parser.add_argument("zip", type=Path, help="the deployment.zip chalice package wrote")
    parser.add_argument("--runtime", help="the Lambda runtime, e.g. python3.13 (default: from the sam.json beside)")
    args = parser.parse_args(argv)
    try:
        if not zipfile.is_zipfile(args.zip):
            raise BytecodeError(f"{args.zip} is not a zip file")
        runtime = args.runtime or runtime_beside(args.zip)
        (entries, size), (entries_after, size_after) = add_bytecode(args.zip, runtime)
    except BytecodeError as exc:
        print(f"tools.bytecode: {exc}", file=sys.stderr)
        return 2
    print(
        f"{args.zip}: bytecode for {runtime} added: {entries} -> {entries_after} entries, "
        f"{size:,} -> {size_after:,} bytes ({size_after / size - 1:+.0%})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
