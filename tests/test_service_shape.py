"""Every service has one shape, and the template is rendered in it: a test fails when either drifts.

The template (``tools/service_template/``) is rendered by ``tools.new_service``'s own code
(``render``) into a temporary folder, named ``location``, and compared with the location
service, the service closest to it (one table, one protected resource per user, the
``UserErased`` consumer).

What is structure, and must match:
- the files and layers: ``app.py``, ``chalicelib/`` with ``access``, ``errors``, ``models``,
  ``settings`` and ``store`` (docs/architecture.md, "One shape for every service"),
  ``.chalice/config.json``, ``requirements.txt``, the ``vendor/servicekit`` link, and a test
  folder with its ``conftest.py``;
- ``.chalice/config.json`` as a whole: every key (its stages, its functions' names and their
  settings), and the stages' environment variables with their values, the name put in;
- ``requirements.txt``, line for line;
- how ``app.py`` makes its app: ``app, jwt_auth = service(...)`` (servicekit.service), with
  ownership checked in ``chalicelib/access.py``;
- the store convention, in every service: ``store.py`` raises no HTTP error (it imports
  neither Chalice nor the service's ``errors``); the domain module decides.

What is the service's own, and may differ: its domain modules (``notes.py`` against
``locations.py`` and ``countries.py``), the contents of every module, its tests, the files
generated from services.toml (``resources.json``, ``.chalice/policy-*.json``, the local stage's
addresses and secrets for the service run by hand in ``.chalice/config.json``) or kept only
for its stack (``infrastructure.json``), and the memory of each function
(``lambda_memory_size``: ``make bench`` chooses it per function).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from chalice import ChaliceViewError

from servicekit import errors
from tests.support import services
from tools import infra, new_service, registry

REFERENCE = "location"
LAYERS = frozenset(f"chalicelib/{name}.py" for name in ("__init__", "access", "errors", "models", "settings", "store"))
SERVICE_FILES = frozenset({"app.py", ".chalice/config.json", "requirements.txt", "vendor/servicekit", *LAYERS})
TEST_FILES = frozenset({"__init__.py", "conftest.py"})
# Made by tools.infra from services.toml, or what only one service's stack has: not the template's;
# and what `chalice package` and `chalice deploy` leave (.gitignore), even while this test reads.
GENERATED = ("resources.json", "infrastructure.json", ".chalice/policy-*.json")
LEFT_BY_CHALICE = (".chalice/deployments/", ".chalice/deployed/")
OWN_SETTINGS = frozenset({"lambda_memory_size"})
# The local stage's defaults that tools.infra writes into config.json from services.toml (the generators
# run after the template is rendered).
HAND_RUN = frozenset(
    f"stages.local.environment_variables.{name}"
    for name in infra.hand_run_defaults(registry.load().services[REFERENCE])
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template rendered as the location service would be, in an empty folder: its repository root."""
    root = tmp_path_factory.mktemp("template")
    new_service.render(REFERENCE, root)
    return root


def _files(folder: Path) -> set[str]:
    """The files and links of a service or test folder, relative to it; bytecode and generated files left out."""
    found = {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")  # not into vendor/servicekit: rglob follows no link
        if (path.is_file() or path.is_symlink()) and "__pycache__" not in path.parts
    }
    return {
        name
        for name in found
        if not any(Path(name).match(pattern) for pattern in GENERATED) and not name.startswith(LEFT_BY_CHALICE)
    }


def _domain(files: set[str]) -> set[str]:
    """The service's own modules: what ``chalicelib/`` has beyond the layers."""
    return {name for name in files if name.startswith("chalicelib/") and name not in LAYERS}


def _key_paths(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a JSON document by its path (``stages.dev.environment_variables.STAGE``)."""
    if not isinstance(value, dict):
        return {prefix: value}
    leaves: dict[str, Any] = {}
    for key, inner in value.items():
        leaves.update(_key_paths(inner, f"{prefix}.{key}" if prefix else key))
    return leaves


def _shape_only(config: dict[str, Any]) -> dict[str, Any]:
    """The config's leaves, with the values that are the service's own replaced by their key's presence."""
    return {
        path: "(own)" if path.rsplit(".", 1)[-1] in OWN_SETTINGS else value
        for path, value in _key_paths(config).items()
        if path not in HAND_RUN
    }


def test_the_rendered_template_has_the_location_services_files_and_layers(rendered: Path) -> None:
    template = _files(rendered / f"{REFERENCE}-service")
    service = _files(services.ROOT / f"{REFERENCE}-service")

    for name, files in (("the template", template), (f"{REFERENCE}-service", service)):
        assert SERVICE_FILES <= files, f"{name} lacks {sorted(SERVICE_FILES - files)} (docs/architecture.md)"
        assert _domain(files), f"{name} has no domain module of its own in chalicelib/"
    assert template - _domain(template) == service - _domain(service), (
        f"only in the template: {sorted((template - service) - _domain(template))}; "
        f"only in {REFERENCE}-service: {sorted((service - template) - _domain(service))}: "
        "add the file to tools/service_template/ (or remove it), or make it a domain module"
    )


def test_the_rendered_template_has_a_test_folder_like_the_location_services(rendered: Path) -> None:
    for folder in (rendered / "tests" / REFERENCE, services.ROOT / "tests" / REFERENCE):
        assert TEST_FILES <= _files(folder), f"{folder} lacks {sorted(TEST_FILES - _files(folder))}"


def test_the_rendered_template_has_the_location_services_config(rendered: Path) -> None:
    template = _shape_only(json.loads((rendered / f"{REFERENCE}-service/.chalice/config.json").read_text()))
    service = _shape_only(json.loads((services.ROOT / f"{REFERENCE}-service/.chalice/config.json").read_text()))

    drift = sorted(
        f"{path}: template {template.get(path, '(missing)')!r}, {REFERENCE}-service {service.get(path, '(missing)')!r}"
        for path in set(template) | set(service)
        if template.get(path) != service.get(path)
    )
    assert not drift, (
        "tools/service_template/.chalice/config.json drifted from the location service's "
        f"(rendered as {REFERENCE}; only {sorted(OWN_SETTINGS)} may differ):\n" + "\n".join(drift)
    )


def test_the_rendered_template_has_the_location_services_requirements(rendered: Path) -> None:
    template = (rendered / f"{REFERENCE}-service/requirements.txt").read_text().splitlines()
    service = (services.ROOT / f"{REFERENCE}-service/requirements.txt").read_text().splitlines()

    assert sorted(template) == sorted(service), (
        f"tools/service_template/requirements.txt differs from {REFERENCE}-service's: "
        f"only in the template {sorted(set(template) - set(service))}, "
        f"only in the service {sorted(set(service) - set(template))}"
    )


APPS = [*services.SERVICES, "template"]


def _folder(rendered: Path, name: str) -> Path:
    """A service's folder, or the template's rendered one."""
    return rendered / f"{REFERENCE}-service" if name == "template" else services.ROOT / f"{name}-service"


def _imports(module: ast.Module) -> set[str]:
    """Every module and name ``module`` imports: ``chalice``, ``chalicelib.access``, ``.errors``, ..."""
    names: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}" if node.module else f"{base}{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("name", APPS)
def test_every_app_is_made_by_servicekit_service(rendered: Path, name: str) -> None:
    module = ast.parse((_folder(rendered, name) / "app.py").read_text())

    made = [
        node
        for node in module.body
        if isinstance(node, ast.Assign)
        and ast.unparse(node.targets[0]) == "(app, jwt_auth)"
        and isinstance(node.value, ast.Call)
        and ast.unparse(node.value.func) == "service"
    ]
    assert made, f"{name}: app.py makes its app otherwise than `app, jwt_auth = service(...)` (servicekit.service)"
    assert "chalice.Chalice" not in _imports(module), f"{name}: app.py makes a Chalice app of its own"


def test_the_template_and_the_location_service_check_ownership_in_access_py(rendered: Path) -> None:
    for name in ("template", REFERENCE):
        assert "chalicelib.access" in _imports(ast.parse((_folder(rendered, name) / "app.py").read_text())), name


def _is_http_error(imported: str) -> bool:
    module, _, name = imported.rpartition(".")
    if imported.split(".")[0] == "chalice" or imported == ".errors" or module == ".errors":
        return True  # Chalice itself, or the service's errors.py: its HTTP errors
    found = getattr(errors, name, None) if module == "servicekit.errors" else None
    return isinstance(found, type) and issubclass(found, ChaliceViewError)


@pytest.mark.parametrize("name", APPS)
def test_no_store_raises_an_http_error(rendered: Path, name: str) -> None:
    # A store reports (None, False, an exception of its own); the domain module raises the
    # errors.py class (docs/architecture.md, "A store reports, the domain decides").
    imported = _imports(ast.parse((_folder(rendered, name) / "chalicelib" / "store.py").read_text()))

    http = sorted(i for i in imported if _is_http_error(i))
    assert not http, f"{name}: chalicelib/store.py imports {http}: a store raises no HTTP error"
