"""The documents as the common generators and linters take them, unchanged, from the running stack.

- **Redocly's CLI** lints each document with its recommended rules: no error.
- **openapi-typescript** (default options) makes types that ``tsc --strict`` accepts for a
  login with only the parameters a user has, and a profile without a bio; the program
  runs, and its login sends no ``null``.
- **openapi-generator** makes a ``python`` client of each service that runs a whole session,
  every refusal a typed answer, and a ``typescript-fetch`` client that ``tsc --strict``
  compiles.

Every tool is pinned (tests/support/toolchain.py, requirements-dev.txt); each test is
skipped, saying why, on a machine without Java or Node. The generated code lives in a
temporary folder only.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.e2e.api import PASSWORD, Api, unique_username
from tests.e2e.conftest import client_secret
from tests.support import toolchain
from tools.localstack import LocalStack
from tools.registry import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-generated")]

CLIENTS = Path(__file__).with_name("clients")
UNKNOWN_USER = "00000000-0000-4000-8000-000000000000"
PROFILE_CLIENT = "profile-service"
TOOL_TIMEOUT_S = 300
# The compiler options of a browser app's build, strict.
TSC = ["--strict", "--target", "ES2022", "--lib", "ES2022,DOM", "--module", "commonjs", "--moduleResolution", "node"]


@pytest.fixture(scope="module")
def documents(api: Api, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each service's document, as its running service serves it, in a file."""
    folder = tmp_path_factory.mktemp("documents")
    files = {}
    for service in SERVICES:
        files[service] = folder / f"{service}.json"
        files[service].write_text(json.dumps(api.get(service, "/openapi.json").json()))
    return files


@pytest.fixture(scope="module")
def node_bin() -> Path:
    return toolchain.node_bin()


@pytest.fixture(scope="module")
def openapi_generator() -> Path:
    """The openapi-generator command (PyPI's openapi-generator-cli bundles the jar; it needs Java)."""
    toolchain.java()
    command = Path(sys.executable).with_name("openapi-generator-cli")
    if not command.exists():
        pytest.skip("openapi-generator-cli is not installed in this environment (requirements-dev.txt pins it)")
    return command


def generate_each(openapi_generator: Path, documents: dict[str, Path], folder: Path, **options: Any) -> dict[str, Path]:
    """A client of each document, made by ``openapi-generator batch`` in one JVM; the folder of each, by service.

    ``options`` are each generation's configuration (``generatorName``, ``globalProperties``,
    ...); ``{service}`` anywhere in them is the service's name.
    """
    outputs, configs = {}, []
    for service, document in documents.items():
        outputs[service] = folder / service
        config = json.loads(json.dumps(options).replace("{service}", service))
        configs.append(folder / f"{service}-generator.json")
        configs[-1].write_text(json.dumps({**config, "inputSpec": str(document), "outputDir": str(outputs[service])}))
    toolchain.run([str(openapi_generator), "batch", "--fail-fast", *map(str, configs)])
    return outputs


@pytest.mark.parametrize("service", SERVICES)
def test_redocly_recommended_rules_find_no_error(documents: dict[str, Path], node_bin: Path, service: str) -> None:
    result = toolchain.run(
        [str(node_bin / "redocly"), "lint", "--extends", "recommended", "--format", "json", str(documents[service])],
        timeout=TOOL_TIMEOUT_S,
    )

    problems = json.loads(result.stdout[result.stdout.index("{") :])["problems"]
    assert [p for p in problems if p["severity"] == "error"] == []
    assert [p["ruleId"] for p in problems] == []  # warnings too: none is expected


def test_openapi_typescript_types_compile_strict_and_a_login_sends_no_null(
    api: Api, documents: dict[str, Path], node_bin: Path, tmp_path: Path
) -> None:
    typed = [f"{service}.ts" for service in SERVICES]  # every service's types compile, not only those used
    for service in SERVICES:
        toolchain.run(
            [str(node_bin / "openapi-typescript"), str(documents[service]), "-o", str(tmp_path / f"{service}.ts")]
        )
    shutil.copy(CLIENTS / "login.ts", tmp_path)
    toolchain.run(
        [str(node_bin / "tsc"), *TSC, "--outDir", "out", "login.ts", *typed], cwd=tmp_path, timeout=TOOL_TIMEOUT_S
    )
    username = unique_username("typed")
    user_id = api.register(username)["user_id"]

    # WHEN the compiled program logs in and writes a profile without a bio
    result = toolchain.run(
        ["node", "out/login.js", api.urls["auth"], api.urls["profile"], user_id, username, PASSWORD], cwd=tmp_path
    )

    # THEN its login sent only the user's parameters, and both calls succeeded
    outcome = json.loads(result.stdout)
    assert "null" not in outcome["sent"]
    assert sorted(name for name, _, _ in (pair.partition("=") for pair in outcome["sent"].split("&"))) == [
        "grant_type",
        "password",
        "username",
    ]
    assert outcome["login"] == 200 and outcome["profile"] == 200


def test_openapi_generator_typescript_fetch_clients_compile_strict(
    documents: dict[str, Path], openapi_generator: Path, node_bin: Path, tmp_path: Path
) -> None:
    clients = generate_each(openapi_generator, documents, tmp_path, generatorName="typescript-fetch")

    # One strict compilation of the three clients (each its own modules).
    entries = [str(folder / "index.ts") for folder in clients.values()]
    toolchain.run([str(node_bin / "tsc"), *TSC, "--noEmit", *entries], cwd=tmp_path, timeout=TOOL_TIMEOUT_S)


@pytest.fixture(scope="module")
def python_clients(
    documents: dict[str, Path], openapi_generator: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ModuleType]]:
    """Each service's generated ``python`` client package (``openapi_<service>``), imported."""
    folder = tmp_path_factory.mktemp("openapi-generator-python")
    only_code = {"apiTests": "false", "modelTests": "false", "apiDocs": "false", "modelDocs": "false"}
    clients = generate_each(
        openapi_generator,
        documents,
        folder,
        generatorName="python",
        additionalProperties={"packageName": "openapi_{service}"},
        globalProperties=only_code,
    )
    for service in SERVICES:
        sys.path.insert(0, str(clients[service]))
    try:
        yield {service: importlib.import_module(f"openapi_{service}") for service in SERVICES}
    finally:
        for service in SERVICES:
            sys.path.remove(str(folder / service))
        for name in [m for m in sys.modules if m.startswith("openapi_")]:
            del sys.modules[name]


def _api(package: ModuleType, api: Api, service: str, token: str | None = None) -> Any:
    configuration = package.Configuration(host=api.urls[service], access_token=token)
    return package.DefaultApi(package.ApiClient(configuration))


def _refusal(call: Any) -> Any:
    """The generated client's exception for a refusal (its ``status`` and typed ``data``)."""
    try:
        call()
    except Exception as exc:
        if hasattr(exc, "status"):
            return exc
        raise
    pytest.fail("the call succeeded; a refusal was expected")


def test_openapi_generator_python_clients_run_a_whole_session(api: Api, python_clients: dict[str, ModuleType]) -> None:
    auth, location, profile = python_clients["auth"], python_clients["location"], python_clients["profile"]
    username = unique_username("generator")
    anonymous = _api(auth, api, "auth")

    # Register and log in (form-encoded, as the document says)
    user = anonymous.register_user(auth.Registration(username=username, password=PASSWORD))
    assert isinstance(user, auth.User) and user.username == username
    tokens = anonymous.token(grant_type="password", username=username, password=PASSWORD)
    assert isinstance(tokens, auth.TokenResponse) and tokens.refresh_token

    # Write and read a location, then a profile (ETag, If-Match)
    locations = _api(location, api, "location", tokens.access_token)
    written = locations.put_location(
        user.user_id, location.LocationChange(latitude=48.86, longitude=2.35, city="Paris")
    )
    assert isinstance(written, location.Location) and written.version >= 1
    assert locations.get_location(user.user_id).city == "Paris"
    profiles = _api(profile, api, "profile", tokens.access_token)
    first = profiles.put_profile_with_http_info(user.user_id, profile.ProfileChange(display_name="Générée"))
    assert first.status_code == 200 and first.headers["ETag"] == '"1"'
    second = profiles.put_profile(
        user.user_id, profile.ProfileChange(display_name="Generated", bio="hi"), if_match='"1"'
    )
    assert isinstance(second, profile.Profile) and second.version == 2
    read = _api(profile, api, "profile").get_profile(user.user_id)
    assert read.display_name == "Generated" and read.location_status in ("ok", "unavailable")

    # 412: a stale If-Match, typed as the service's error
    stale = _refusal(
        lambda: profiles.put_profile(user.user_id, profile.ProfileChange(display_name="x"), if_match='"1"')
    )
    assert stale.status == 412 and isinstance(stale.data, profile.Error)
    # 401: no token (the authorizer's body); 403: a forged token, and another user's location
    missing = _refusal(anonymous.me)
    assert missing.status == 401 and isinstance(missing.data, auth.GatewayUnauthorized)
    forged = _refusal(_api(auth, api, "auth", "not.a.token").me)
    assert forged.status == 403 and isinstance(forged.data.actual_instance, auth.GatewayDenied)
    others = _refusal(lambda: locations.get_location(UNKNOWN_USER))
    assert others.status == 403 and isinstance(others.data.actual_instance, location.Error)
    # 404: nobody's profile; 400: a wrong password, as RFC 6749 shapes it
    nobody = _refusal(lambda: _api(profile, api, "profile").get_profile(UNKNOWN_USER))
    assert nobody.status == 404 and isinstance(nobody.data, profile.Error)
    wrong = _refusal(lambda: anonymous.token(grant_type="password", username=username, password="not the password"))
    assert wrong.status == 400 and wrong.data.error == "invalid_grant"


def test_openapi_generator_python_client_authenticates_a_service_with_http_basic(
    api: Api, stack: LocalStack, python_clients: dict[str, ModuleType]
) -> None:
    auth = python_clients["auth"]
    configuration = auth.Configuration(host=api.urls["auth"], username=PROFILE_CLIENT, password=client_secret(stack))
    client = auth.DefaultApi(auth.ApiClient(configuration))

    tokens = client.token(grant_type="client_credentials")

    assert tokens.scope == "location:read" and not tokens.refresh_token
