"""Loading the services' Chalice apps side by side in one test run.

Each app is ``app.py`` next to a package called ``chalicelib``: imported the usual
way, the second service would silently get the first one's modules. Each app is
executed under its own module name, and its ``chalicelib`` modules are taken out of
``sys.modules`` afterwards and kept on the ``Service`` object instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from chalice import Chalice
from chalice.test import BaseClient, Client

from tools.registry import ROOT, SERVICES
from tools.stages import folder, stage_env

__all__ = ["ROOT", "SERVICES", "Service", "imported_with_app", "json_body", "load", "table_name", "unused_name"]


@dataclass
class Service:
    """One loaded service: its app, its own ``chalicelib`` modules, its stage config."""

    name: str
    folder: Path
    app: Chalice
    app_module: ModuleType
    modules: dict[str, ModuleType] = field(repr=False)

    def module(self, name: str) -> ModuleType:
        """The service's ``chalicelib.<name>``."""
        return self.modules[f"chalicelib.{name}"]

    def stage_env(self, stage: str = "local") -> dict[str, str]:
        """The environment variables Chalice sets for ``stage``."""
        return stage_env(self.name, stage)

    def client(self, stage: str = "local") -> Client:
        """``chalice.test.Client`` on this app, authorizer included."""
        return Client(self.app, stage_name=stage, project_dir=str(self.folder))

    @contextlib.contextmanager
    def environment(self, stage: str = "local") -> Iterator[None]:
        """The stage's variables in ``os.environ``, for calling the service's code directly."""
        saved = dict(os.environ)
        os.environ.update(under_the_environment(self.stage_env(stage)))
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def under_the_environment(variables: dict[str, str]) -> dict[str, str]:
    """A stage's variables as the local stack applies them: on the local stage, what the environment sets wins.

    The local stage's addresses and secrets in ``.chalice/config.json`` are those of a
    service run by hand (``tools.infra``); a test hands the service its own (a fake peer's
    URL, a secret in a temporary folder) through the environment, as ``tools/chalice_local.py``
    lets the local stack do.
    """
    if variables.get("STAGE") != "local":
        return variables
    return {name: value for name, value in variables.items() if name not in os.environ}


_apply_stage_variables = BaseClient._patched_env_vars


def _patched_env_vars(client: BaseClient, environment_variables: dict[str, str]) -> Any:
    return _apply_stage_variables(client, under_the_environment(environment_variables))


# chalice.test.Client writes the stage's variables over os.environ for each request.
BaseClient._patched_env_vars = _patched_env_vars  # type: ignore[method-assign]


def _is_chalicelib(name: str) -> bool:
    return name == "chalicelib" or name.startswith("chalicelib.")


@cache
def load(name: str) -> Service:
    """Import ``<name>-service/app.py`` under the unique name ``<name>_service_app``."""
    project = folder(name)
    for module_name in [m for m in sys.modules if _is_chalicelib(m)]:
        del sys.modules[module_name]
    sys.path.insert(0, str(project))
    try:
        spec = importlib.util.spec_from_file_location(f"{name}_service_app", project / "app.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        # Modules app.py does not import (admin commands) belong to the service too.
        importlib.import_module("chalicelib")
        for info in pkgutil.iter_modules([str(project / "chalicelib")]):
            importlib.import_module(f"chalicelib.{info.name}")
    finally:
        sys.path.remove(str(project))
    own = {m: sys.modules.pop(m) for m in [m for m in sys.modules if _is_chalicelib(m)]}
    return Service(name=name, folder=project, app=module.app, app_module=module, modules=own)


def table_name(name: str) -> str:
    """The local stage's table name of a service."""
    return stage_env(name, "local")["TABLE_NAME"]


def json_body(response: Any) -> Any:
    """The decoded JSON body of a test-client response."""
    return json.loads(response.body)


def unused_name(base: str = "billing") -> str:
    """A name no service has yet, for a test that adds one (``billing``, else ``billing2``, ...)."""
    return next(name for i in itertools.count(1) if (name := base if i == 1 else f"{base}{i}") not in SERVICES)


def imported_with_app(name: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` importing the service's ``app.py`` loads, in a fresh process (its cold start)."""
    code = (
        "import sys\n"
        "sys.path[:0] = ['.', 'vendor']\n"
        "import app\n"
        f"print(','.join(m for m in {modules!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=folder(name), capture_output=True, text=True, check=True, timeout=60
    )
    return [module for module in result.stdout.strip().split(",") if module]
