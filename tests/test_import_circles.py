"""No import circles: inside the shared library, and inside each service (its ``app.py`` and ``chalicelib``).

A circle makes the import order matter and hides which module is the lower floor. Every
import counts, a function's own too (it closes the circle the moment it runs); only
imports under ``if TYPE_CHECKING:`` are left out, as they never run.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

from tests.support import services

PACKAGES = {"servicekit": (services.ROOT / "shared", "servicekit")} | {
    name: (services.ROOT / f"{name}-service", "chalicelib") for name in services.SERVICES
}


def _module_name(top: Path, path: Path) -> str:
    parts = list(path.relative_to(top).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.Module, name: str, is_package: bool) -> set[str]:
    """The modules ``name``'s code imports, each ``from X import y`` counted as both X and X.y."""
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph(top: Path, package: str) -> dict[str, set[str]]:
    """Each module of ``package`` (and ``app.py`` beside it, if any) -> the modules of the same that it imports."""
    files = [*sorted((top / package).rglob("*.py")), *([top / "app.py"] if (top / "app.py").is_file() else [])]
    trees = {_module_name(top, path): (ast.parse(path.read_text()), path.name == "__init__.py") for path in files}
    return {
        name: {other for other in _imported(tree, name, is_package) if other in trees and other != name}
        for name, (tree, is_package) in trees.items()
    }


@pytest.mark.parametrize("label", PACKAGES)
def test_no_module_imports_itself_through_others(label: str) -> None:
    top, package = PACKAGES[label]
    try:
        order = list(graphlib.TopologicalSorter(import_graph(top, package)).static_order())
    except graphlib.CycleError as circle:
        pytest.fail(f"{label}: import circle {' -> '.join(circle.args[1])}")
    assert order  # the package was found


def test_the_finder_sees_a_circle_closed_inside_a_function(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("def f():\n    from . import high\n")
    (package / "high.py").write_text("from .low import f\n")
    (package / "typed.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import low\n")

    graph = import_graph(tmp_path, "pkg")

    assert "pkg.high" in graph["pkg.low"] and "pkg.low" in graph["pkg.high"]
    assert "pkg.low" not in graph["pkg.typed"]
    with pytest.raises(graphlib.CycleError):
        list(graphlib.TopologicalSorter(graph).static_order())
