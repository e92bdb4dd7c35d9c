"""The bench's pure parts: prices, the memory rule, the package it models (no timings here)."""

from __future__ import annotations

import json
from importlib.util import cache_from_source
from pathlib import Path

import pytest

from tools import stages
from tools.bench import costs, package


def test_a_million_invocations_cost_requests_plus_gb_seconds_billed_per_ms() -> None:
    # 1,024 MB for 99.2 ms is billed as 100 ms: 0.1 GB-s each.
    assert costs.lambda_per_million(1024, 99.2) == pytest.approx(0.20 + 100_000 * 0.0000166667)


def test_the_cheapest_size_meeting_the_goal_is_chosen() -> None:
    by_size = {512: (700.0, 0.40), 1024: (450.0, 0.42), 1769: (300.0, 0.60)}

    assert costs.choose("api", by_size)[0] == 1024


def test_of_sizes_within_five_percent_of_the_cheapest_the_fastest_is_chosen() -> None:
    by_size = {1024: (450.0, 0.42), 1769: (300.0, 0.43)}

    assert costs.choose("api", by_size)[0] == 1769


def test_when_no_size_meets_the_goal_the_cheapest_near_fastest_is_chosen() -> None:
    by_size = {1024: (900.0, 0.40), 1769: (600.0, 0.50), 2048: (590.0, 0.55)}

    size, why = costs.choose("api", by_size)

    assert size == 1769
    assert "no size meets" in why


def test_the_modelled_package_holds_what_chalice_package_zips(tmp_path: Path) -> None:
    folder = package.build("location", tmp_path, bytecode=False)

    assert (folder / "app.py").is_file()
    assert (folder / "vendor" / "servicekit" / "authorizer.py").is_file()  # through the symlink
    assert sorted(p.name for p in (folder / "chalice").iterdir()) == ["__init__.py", "app.py"]
    assert (folder / "jwt" / "api_jwt.py").is_file()
    assert (folder / "cryptography").is_dir()  # PyJWT[crypto]'s requirement
    assert not (folder / "boto3").exists()  # the runtime's
    assert not list(folder.rglob("*.pyc"))


def test_the_modelled_package_has_the_bytecode_the_pipeline_adds(tmp_path: Path) -> None:
    folder = package.build("location", tmp_path)

    sources = sorted(folder.rglob("*.py"))
    assert sources
    assert sorted(folder.rglob("*.pyc")) == sorted(Path(cache_from_source(str(s), optimization="")) for s in sources)


def test_each_function_has_the_memory_the_last_bench_chose() -> None:
    # docs/performance.md is make bench's output: its table of chosen sizes is what deploys.
    text = (stages.ROOT / "docs" / "performance.md").read_text()
    section = text.split("## The memory each function gets", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| ") and " MB |" in line]
    handlers = {"api": "api_handler", "authorizer": "jwt_auth"}
    chosen = {name.strip(): int(memory.strip().removesuffix(" MB")) for name, memory in rows}

    assert len(chosen) == 2 * len({name.split()[0] for name in chosen})
    for name, memory in chosen.items():
        service, kind = name.split()
        config = json.loads((stages.folder(service) / ".chalice" / "config.json").read_text())
        assert config["lambda_functions"][handlers[kind]]["lambda_memory_size"] == memory, name
