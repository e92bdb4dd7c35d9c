"""A new service in the same shape as the others, in one command.

    python -m tools.new_service billing      # or: make service NAME=billing

It writes ``billing-service/`` (``app.py``, made by ``servicekit.service`` with ``/health``
and ``/openapi.json``, and one protected example route; ``chalicelib/`` with its model,
access rules and store; ``.chalice/config.json`` with the local, dev and prod stages,
``requirements.txt``, the ``vendor/servicekit`` link) and its route tests in
``tests/billing/``, all from ``tools/service_template/`` (``render``; tests/test_service_shape.py
keeps it in the location service's shape); adds its entry to
``services.toml`` (the next free port, its table); then makes again what is generated from
the registry: its ``resources.json`` and policy files (``tools.infra``), the pipeline
(``tools.pipeline``) and the services' tables in the docs (``tools.servicedocs``). From
then on ``make run`` starts it, ``make test`` tests it and the pipeline deploys it.
"""

from __future__ import annotations

import argparse
import keyword
import os
import subprocess
import sys
from pathlib import Path

from tools import localstack, registry

TEMPLATE = Path(__file__).resolve().with_name("service_template")
PLACEHOLDER = "scaffold"  # the template's name for the service, in every case it appears in
GENERATORS = ("tools.infra", "tools.pipeline", "tools.servicedocs")
# Names already taken by something that is not a service: the local stack's DynamoDB and
# the test folders that are not a service's.
RESERVED = {"dynamodb", "shared", "support", "e2e", "deploy", "tools", "docs", "tests", "vendor"}


class InvalidNameError(ValueError):
    """The name cannot be a new service's; the message says why."""


def check_name(name: str, root: Path = registry.ROOT) -> None:
    """``InvalidNameError`` unless ``name`` can be a new service's."""
    if not registry.NAME.match(name):
        raise InvalidNameError(
            f"{name!r} is not a valid service name: 2-20 lower-case letters and digits, starting with a letter "
            "(it names the folder <name>-service, the variable <NAME>_URL, its stacks and tables)"
        )
    if keyword.iskeyword(name) or name in RESERVED:
        raise InvalidNameError(f"{name!r} is a reserved name; choose another")
    if name in registry.load(root / "services.toml").services:
        raise InvalidNameError(f"there is a service {name!r} already (services.toml)")
    for taken in (root / f"{name}-service", root / "tests" / name):
        if taken.exists():
            raise InvalidNameError(f"{taken.relative_to(root)} exists already; choose another name or remove it")


def _substitute(text: str, name: str) -> str:
    for placeholder, value in ((PLACEHOLDER.upper(), name.upper()), (PLACEHOLDER.capitalize(), name.capitalize())):
        text = text.replace(placeholder, value)
    return text.replace(PLACEHOLDER, name)


def render(name: str, root: Path) -> list[Path]:
    """The template's files, named for ``name``, written into the repository at ``root``; the files written.

    ``<root>/<name>-service/`` gets the service (and its ``vendor/servicekit`` link),
    ``<root>/tests/<name>/`` its tests. Nothing else is read or written.
    """
    written = []
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(TEMPLATE)
        if relative.parts[0] == "tests":
            target = root / "tests" / name / Path(*relative.parts[1:])
        else:
            target = root / f"{name}-service" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_substitute(source.read_text(), name))
        written.append(target)
    vendor = root / f"{name}-service" / "vendor"
    vendor.mkdir()
    (vendor / "servicekit").symlink_to(Path("..", "..", "shared", "servicekit"))
    return written


def registry_entry(name: str, port: int) -> str:
    """The new service's entry in services.toml."""
    return (
        f"\n[{name}]\n"
        f'summary = "the {name} service: say what it does here"\n'
        f"port = {port}\n"
        'calls = ["auth"]\n'
        'subscribes = ["UserErased"]\n'
        'table = { key = "user_id", ttl = "expires_at", actions = ["GetItem", "UpdateItem"] }\n'
    )


def next_port(known: registry.Registry) -> int:
    """One past the highest port of the local stack."""
    return max([known.dynamodb_port, *(s.port for s in known.services.values())]) + 1


def create(name: str, root: Path = registry.ROOT) -> list[Path]:
    """Add the service ``name`` to the repository at ``root``; the files it wrote."""
    check_name(name, root)
    toml = root / "services.toml"
    known = registry.load(toml)
    entry = registry_entry(name, next_port(known))
    registry.parse(toml.read_text() + entry)  # refuse before writing anything
    written = render(name, root)
    with toml.open("a") as file:
        file.write(entry)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "shared")])}
    for generator in GENERATORS:
        subprocess.run([sys.executable, "-m", generator], cwd=root, env=environment, check=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.new_service", description=__doc__.split("\n")[0])
    parser.add_argument("name", help="the new service's name: lower-case letters and digits, e.g. billing")
    args = parser.parse_args(argv)
    try:
        written = create(args.name)
    except InvalidNameError as exc:
        print(f"tools.new_service: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"tools.new_service: {' '.join(exc.cmd[1:])} failed; the service's files are written", file=sys.stderr)
        return 1
    port = registry.parse((registry.ROOT / "services.toml").read_text()).services[args.name].port
    print(
        f"{args.name}-service: {len(written)} files written from tools/service_template, "
        f"local port {port} ({args.name.upper()}_PORT moves it):"
    )
    print(f"  {args.name}-service/app.py (its routes), tests/{args.name}/ (its tests), its entry in services.toml;")
    print("  resources.json and policy files, the pipeline and the docs' tables made again.")
    print(
        "Next: `make test`, then `make run`: it starts with the others. After editing its summary in "
        "services.toml, `python -m tools.servicedocs` writes the docs' tables again (a test fails until then)."
    )
    state_dir = localstack.state_dir_from_env(os.environ)
    if localstack.is_running(state_dir):
        print(
            f"A `make run` is running (state in {state_dir}) and does not know {args.name}-service: "
            "stop it (Ctrl-C) and run `make run` again to start it with the others."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
