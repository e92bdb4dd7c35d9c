"""What a service learns from its environment: the shared library reads no registry and looks for no repository."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import services
from tools import infra, registry
from tools.localstack import LocalStack, Ports, state_dir_from_env

LIBRARY = services.ROOT / "shared" / "servicekit"


def test_the_shared_library_reads_no_registry_and_finds_no_repository() -> None:
    for path in sorted(LIBRARY.glob("*.py")):
        tree = ast.parse(path.read_text())
        texts = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}

        assert "services.toml" not in texts and "tomllib" not in imported, path.name
        assert "getcwd" not in {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}, path.name


@pytest.mark.parametrize("name", services.SERVICES)
def test_a_service_run_by_hand_finds_what_make_run_hands_it_at_the_default_ports(name: str) -> None:
    # GIVEN what the local stage of the service's config.json gives it, run by hand in its folder
    defaults = services.load(name).stage_env("local")
    # and what `make run`, with nothing moved, hands the same service
    handed = LocalStack(Ports.from_env({}), state_dir_from_env({})).wiring(name)

    # THEN config.json holds what tools.infra makes, and each address and secret is make run's
    made = infra.hand_run_defaults(registry.service(name))
    assert made.items() <= defaults.items()
    for variable, value in made.items():
        if value.startswith("file:"):
            in_folder = (services.ROOT / f"{name}-service" / value.removeprefix("file:")).resolve()
            assert in_folder == Path(handed[variable].removeprefix("file:")).resolve(), variable
        else:
            assert value == handed[variable], variable
