"""The services of the system, as ``services.toml`` lists them: what every tool knows about each.

from tools.registry import SERVICES, service
for name in SERVICES: ...            # in deployment order
service("profile").calls             # ('auth', 'location')
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "services.toml"
# A service's name: its folder is <name>-service, its variables <NAME>_URL, its stacks and
# tables <name>-<stage>; lower-case letters and digits keep all of those valid.
NAME = re.compile(r"^[a-z][a-z0-9]{1,19}$")
SCOPE = re.compile(r"^[a-z][a-z0-9]*:[a-z][a-z0-9]*$")
EVENTS = ("UserErased",)  # the events there are (servicekit.events)


class RegistryError(ValueError):
    """services.toml says something the tools cannot work with; the message says what and where."""


@dataclass(frozen=True)
class Table:
    """A service's DynamoDB table."""

    key: str
    actions: tuple[str, ...]
    ttl: str | None = None


@dataclass(frozen=True)
class Service:
    """One entry of the registry."""

    name: str
    summary: str
    port: int
    table: Table
    calls: tuple[str, ...] = ()
    client: str | None = None  # the scope of its service client
    secrets: tuple[tuple[str, str], ...] = ()  # (environment variable, SSM parameter name)
    issuer: bool = False  # its URL is the tokens' issuer: its stack publishes it, its functions read it
    user_scopes: tuple[str, ...] = ()  # the scopes it enforces that every user token carries
    client_scopes: tuple[str, ...] = ()  # the scopes it enforces that a service client may be given
    publishes: tuple[str, ...] = ()  # the events it publishes (its stack holds their topic)
    subscribes: tuple[str, ...] = ()  # the events it consumes (its stack holds its queue of them)

    @property
    def folder(self) -> Path:
        """Its Chalice project."""
        return ROOT / f"{self.name}-service"

    @property
    def app_name(self) -> str:
        """Its Chalice ``app_name``, folder name and the prefix of its stacks."""
        return f"{self.name}-service"

    @property
    def url_variable(self) -> str:
        """The variable that gives its callers its URL."""
        return f"{self.name.upper()}_URL"


@dataclass(frozen=True)
class Registry:
    """The whole of services.toml."""

    dynamodb_port: int
    services: dict[str, Service]

    @property
    def user_scopes(self) -> tuple[str, ...]:
        """Every user token's scopes: what each service declares for users, in the registry's order."""
        return tuple(scope for s in self.services.values() for scope in s.user_scopes)

    @property
    def client_scopes(self) -> tuple[str, ...]:
        """The scopes a service client may be given, in the registry's order."""
        return tuple(scope for s in self.services.values() for scope in s.client_scopes)


def _fail(where: str, problem: str) -> RegistryError:
    return RegistryError(f"{REGISTRY.name}: {where}: {problem}")


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, "must be a list of strings")
    return tuple(value)


def _service(name: str, entry: Any, earlier: list[str]) -> Service:
    if not NAME.match(name):
        raise _fail(f"[{name}]", "a service name is 2-20 lower-case letters and digits, starting with a letter")
    if not isinstance(entry, dict):
        raise _fail(name, "must be a table")
    unknown = set(entry) - {
        "summary",
        "port",
        "calls",
        "client",
        "secrets",
        "table",
        "issuer",
        "scopes",
        "publishes",
        "subscribes",
    }
    if unknown:
        raise _fail(name, f"unknown keys {sorted(unknown)}")
    table = entry.get("table")
    if not isinstance(table, dict) or not isinstance(table.get("key"), str):
        raise _fail(f"{name}.table", "needs key, the partition key's attribute name")
    calls = _strings(entry.get("calls", []), f"{name}.calls")
    for callee in calls:
        if callee not in earlier:
            raise _fail(f"{name}.calls", f"{callee!r} is not a service listed above {name}")
    secrets = entry.get("secrets", {})
    if not isinstance(secrets, dict) or not all(isinstance(v, str) for v in secrets.values()):
        raise _fail(f"{name}.secrets", "must map variable names to parameter names")
    if not isinstance(entry.get("issuer", False), bool):
        raise _fail(f"{name}.issuer", "must be true or false")
    scopes = entry.get("scopes", {})
    if not isinstance(scopes, dict) or set(scopes) - {"user", "client"}:
        raise _fail(f"{name}.scopes", "must be a table of user and client, each a list of scopes")
    for scope in (*scopes.get("user", []), *scopes.get("client", [])):
        if not isinstance(scope, str) or not SCOPE.match(scope):
            raise _fail(f"{name}.scopes", f"{scope!r} is not a scope of the form <service>:<verb> (a-z, 0-9)")
    for kind in ("publishes", "subscribes"):
        for event in _strings(entry.get(kind, []), f"{name}.{kind}"):
            if event not in EVENTS:
                raise _fail(f"{name}.{kind}", f"{event!r} is not an event the services know ({', '.join(EVENTS)})")
    port = entry.get("port")
    if not isinstance(port, int) or not 0 < port < 65536:
        raise _fail(f"{name}.port", "must be a port number")
    return Service(
        name=name,
        summary=str(entry.get("summary", "")),
        port=port,
        table=Table(
            key=table["key"],
            actions=_strings(table.get("actions", []), f"{name}.table.actions"),
            ttl=table.get("ttl"),
        ),
        calls=calls,
        client=entry.get("client"),
        secrets=tuple(secrets.items()),
        issuer=entry.get("issuer", False),
        user_scopes=_strings(scopes.get("user", []), f"{name}.scopes.user"),
        client_scopes=_strings(scopes.get("client", []), f"{name}.scopes.client"),
        publishes=_strings(entry.get("publishes", []), f"{name}.publishes"),
        subscribes=_strings(entry.get("subscribes", []), f"{name}.subscribes"),
    )


def parse(text: str) -> Registry:
    """The registry that ``text`` (services.toml's content) describes."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail("syntax", str(exc)) from None
    dynamodb_port = document.pop("dynamodb_port", 8000)
    services: dict[str, Service] = {}
    for name, entry in document.items():
        services[name] = _service(name, entry, list(services))
    ports = [dynamodb_port, *(s.port for s in services.values())]
    if len(set(ports)) != len(ports):
        raise _fail("ports", f"each service needs its own port, got {ports}")
    issuers = [s.name for s in services.values() if s.issuer]
    if len(issuers) != 1:
        raise _fail("issuer", f"exactly one service issues the tokens (issuer = true), got {issuers}")
    for event in EVENTS:
        publishers = [s.name for s in services.values() if event in s.publishes]
        subscribers = [s.name for s in services.values() if event in s.subscribes]
        if subscribers and len(publishers) != 1:
            raise _fail("publishes", f"{event} has subscribers, so exactly one service publishes it, got {publishers}")
        for subscriber in subscribers:
            if list(services).index(subscriber) < list(services).index(publishers[0]):
                raise _fail(f"{subscriber}.subscribes", f"{event} is published by {publishers[0]}, listed below it")
    registry = Registry(dynamodb_port=dynamodb_port, services=services)
    for entry in services.values():
        if entry.client and set(entry.client.split()) - set(registry.client_scopes):
            raise _fail(f"{entry.name}.client", f"{entry.client!r} is not among the client scopes the services declare")
    return registry


@cache
def load(path: Path = REGISTRY) -> Registry:
    """The registry in ``path`` (services.toml)."""
    return parse(path.read_text())


def service(name: str) -> Service:
    """The registry's entry for ``name``."""
    try:
        return load().services[name]
    except KeyError:
        raise SystemExit(f"no service {name!r} in {REGISTRY.name} (services: {', '.join(SERVICES)})") from None


def publisher(event: str) -> Service | None:
    """The service that publishes ``event`` (``publishes``), if any."""
    return next((s for s in load().services.values() if event in s.publishes), None)


def issuer() -> Service:
    """The service whose URL is the tokens' issuer (``issuer = true``; the registry has exactly one)."""
    return next(s for s in load().services.values() if s.issuer)


SERVICES: tuple[str, ...] = tuple(load().services)  # in deployment order


if __name__ == "__main__":
    # The Makefile's list of the services' folders; it runs before the virtual environment exists (tomllib is stdlib).
    if sys.argv[1:] != ["folders"]:
        sys.exit("usage: python -m tools.registry folders")
    print(" ".join(entry.app_name for entry in load().services.values()))
