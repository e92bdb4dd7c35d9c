"""A service laid out as its Lambda deployment package, for the cold-start model.

``chalice package`` zips ``app.py``, ``chalicelib/``, ``vendor/`` and, unpacked from
wheels, the distributions ``requirements.txt`` names and what they require; of
Chalice itself only ``chalice/app.py`` and ``chalice/__init__.py``. Wheels carry no
bytecode and Lambda's ``/var/task`` is read-only, so every cold start compiles all of
that from source; boto3 and the standard library come with the runtime, compiled.
The pipeline's build therefore adds bytecode to the package (``tools.bytecode``).
This copies the same files into a folder and, unless ``bytecode=False``, compiles them
with the build's own function (unchecked-hash ``.pyc``); run with the folder first on
``PYTHONPATH`` and ``PYTHONDONTWRITEBYTECODE=1``, an import behaves as it does there.
``bytecode=False`` gives the package as ``chalice package`` alone makes it (sources
only), which is also what ``chalice deploy`` uploads.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from pathlib import Path

from packaging.requirements import Requirement

from tools import stages
from tools.bytecode import compile_tree

SKIPPED = ("__pycache__", ".pyc")


def _distributions(requirements: Path) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``requirements`` names, with everything they require."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    pending = [
        Requirement(line.split("#")[0].strip())
        for line in requirements.read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    while pending:
        requirement = pending.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            continue
        distribution = importlib.metadata.distribution(requirement.name)
        seen[name] = distribution
        for text in distribution.requires or []:
            needed = Requirement(text)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra}) for extra in extras):
                pending.append(needed)
    return list(seen.values())


def _copy(source: Path, target: Path) -> None:
    if any(part in SKIPPED or part.endswith(".pyc") for part in source.parts):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def build(service: str, folder: Path, *, bytecode: bool = True) -> Path:
    """``folder`` holding ``service`` as its deployment package does; returns it."""
    project = stages.folder(service)
    for name in ("app.py",):
        _copy(project / name, folder / name)
    for tree in ("chalicelib", "vendor"):
        # vendor/servicekit is a symlink, which the package follows (and rglob would not).
        for directory, _, names in os.walk(project / tree, followlinks=True):
            for name in names:
                path = Path(directory) / name
                _copy(path, folder / path.relative_to(project))
    import chalice

    chalice_folder = Path(chalice.__file__).parent
    for name in ("app.py", "__init__.py"):
        _copy(chalice_folder / name, folder / "chalice" / name)
    for distribution in _distributions(project / "requirements.txt"):
        for file in distribution.files or []:
            source = Path(str(distribution.locate_file(file)))
            if source.is_file() and not str(file).startswith(".."):
                _copy(source, folder / str(file))
    if bytecode:
        compile_tree(folder)
    return folder
