"""services.toml: the one list of the services, what it refuses, and who reads it."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import services
from tools import registry, servicedocs
from tools.registry import RegistryError, parse

ENTRY = '[one]\nsummary = "s"\nport = 9001\ntable = { key = "id", actions = ["GetItem"] }\n'


def test_the_registry_lists_the_services_in_deployment_order_each_calling_only_earlier_ones() -> None:
    known = registry.load()

    assert registry.SERVICES == tuple(known.services)
    for position, service in enumerate(known.services.values()):
        assert set(service.calls) <= set(registry.SERVICES[:position]), service.name
        assert service.folder.is_dir() and (service.folder / "app.py").is_file(), service.name


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (ENTRY.replace("[one]", "[One]"), "a service name is 2-20 lower-case letters and digits"),
        (ENTRY + 'colour = "red"\n', "unknown keys ['colour']"),
        (ENTRY.replace("port = 9001", 'port = "9001"'), "one.port: must be a port number"),
        (ENTRY.replace('table = { key = "id", actions = ["GetItem"] }', ""), "one.table: needs key"),
        (ENTRY + 'calls = ["two"]\n', "'two' is not a service listed above one"),
        (ENTRY + ENTRY.replace("[one]", "[two]"), "each service needs its own port"),
        ("[one\n", "syntax"),
        (ENTRY + 'scopes = { user = ["Write"] }\n', "'Write' is not a scope of the form <service>:<verb>"),
        (ENTRY + 'scopes = { admin = ["one:write"] }\n', "one.scopes: must be a table of user and client"),
        (ENTRY + 'issuer = true\nclient = "two:read"\n', "'two:read' is not among the client scopes"),
        (ENTRY + 'subscribes = ["UserDeleted"]\n', "'UserDeleted' is not an event the services know"),
        (ENTRY + 'issuer = true\nsubscribes = ["UserErased"]\n', "exactly one service publishes it, got []"),
    ],
    ids=[
        "name",
        "unknown key",
        "port type",
        "no table",
        "calls a later service",
        "same port",
        "syntax",
        "scope form",
        "scope kind",
        "undeclared client scope",
        "unknown event",
        "event without its publisher",
    ],
)
def test_a_registry_that_tools_cannot_work_with_is_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(RegistryError, match=r"^services\.toml: ") as raised:
        parse(text)

    assert problem in str(raised.value)


def test_the_makefile_reads_the_same_services() -> None:
    printed = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "print-services"],
        input="print-services:\n\t@echo $(SERVICES)\n",
        cwd=registry.ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    assert printed == [f"{name}-service" for name in registry.SERVICES]


def test_the_docs_tables_of_the_services_are_made_from_the_registry() -> None:
    assert servicedocs.main(["--check"]) == 0
    for name in servicedocs.DOCUMENTS:
        text = (registry.ROOT / name).read_text()
        assert servicedocs.BEGIN in text and servicedocs.END in text, name
        for service in registry.load().services.values():
            assert f"| `{service.app_name}/` | {service.port} |" in text, (name, service.name)


def test_the_auth_service_issues_exactly_the_scopes_the_services_declare() -> None:
    settings = services.load("auth").module("settings")
    known = registry.load()

    assert set(settings.USER_SCOPE.split()) == set(known.user_scopes)
    assert set(settings.SERVICE_SCOPES) == set(known.client_scopes)
