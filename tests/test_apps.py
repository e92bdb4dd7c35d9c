"""The apps: loaded side by side without colliding, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import services


def test_the_apps_load_side_by_side_each_with_its_own_modules() -> None:
    loaded = [services.load(name) for name in services.SERVICES]

    assert [s.app.app_name for s in loaded] == [f"{name}-service" for name in services.SERVICES]
    chalicelibs = [id(s.modules["chalicelib"]) for s in loaded]
    assert len(set(chalicelibs)) == len(services.SERVICES)
    assert not [m for m in sys.modules if m == "chalicelib" or m.startswith("chalicelib.")]


@pytest.mark.parametrize("name", services.SERVICES)
def test_importing_an_app_loads_no_boto3_client_machinery_powertools_or_tracing_sdk(name: str) -> None:
    # Importing app.py is the whole cold start of the service's authorizer function: Powertools'
    # Logger and Metrics load on the first request and the first count; no tracing SDK at all;
    # Argon2 on the first hash, and the common-password list on the first registration.
    folder = services.ROOT / f"{name}-service"
    code = (
        "import sys\n"
        "sys.path[:0] = ['.', 'vendor']\n"
        "import app\n"
        "heavy = ('boto3', 'botocore.session', 'botocore.client', 'aws_lambda_powertools', 'aws_xray_sdk',"
        " 'argon2', 'zxcvbn')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == ""


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_authorizer_handler_chalice_deploys_exists_in_app_py(name: str) -> None:
    # Chalice deploys the built-in authorizer as its own function with the handler
    # "app.<function name>": app.py must hold it under that name, or every authorized
    # request would fail on Lambda (Runtime.HandlerNotFound) while all local runs pass.
    service = services.load(name)
    handlers = [a.handler_string for a in service.app.builtin_auth_handlers]

    assert handlers
    for handler in handlers:
        module, _, attribute = handler.partition(".")
        assert module == "app"
        assert callable(getattr(service.app_module, attribute, None)), handler


@pytest.mark.parametrize("name", [name for name in services.SERVICES if name != "auth"])
def test_a_service_that_signs_nothing_never_imports_the_key_ring(name: str) -> None:
    # servicekit.keyring (the signing side) ships in every package with the library, but
    # only the auth service and the tools use it: no other cold start pays for it.
    assert services.imported_with_app(name, ("servicekit.keyring",)) == []
