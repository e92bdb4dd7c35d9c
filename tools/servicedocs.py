"""The table of the services in the docs, made from services.toml.

    python -m tools.servicedocs           # rewrite the table in each document that has one
    python -m tools.servicedocs --check   # exit 1 naming each document whose table is not this

A document holds the table between the two marker lines below; everything else in it is
kept by hand. A test compares the committed tables with what this makes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools import registry

BEGIN = "<!-- services: made by `python -m tools.servicedocs` from services.toml; edit that, not this -->"
END = "<!-- /services -->"
DOCUMENTS = ("README.md", "docs/architecture.md")


def table(known: registry.Registry) -> str:
    """The services as a Markdown table, in deployment order."""
    rows = [
        "| service | local port | table key | is given the URL of | what it does |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| `{s.app_name}/` | {s.port} | `{s.table.key}` | {', '.join(s.calls) or '-'} | {s.summary} |"
            for s in known.services.values()
        ),
    ]
    return "\n".join(rows)


def render(text: str, known: registry.Registry) -> str:
    """``text`` with its table made again (unchanged when it has no markers)."""
    if BEGIN not in text:
        return text
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table(known)}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.servicedocs", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if a table differs")
    args = parser.parse_args(argv)
    known = registry.load()
    stale = []
    for name in DOCUMENTS:
        path = Path(registry.ROOT, name)
        text = path.read_text()
        made = render(text, known)
        if made != text:
            stale.append(name)
            if not args.check:
                path.write_text(made)
    if args.check and stale:
        print(f"not made from services.toml: {', '.join(stale)}; run python -m tools.servicedocs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
