"""Parameter references: a missing value is ParameterNotFoundError whatever keeps it; files stay private."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from servicekit import parameters


@pytest.fixture
def fake_aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_a_missing_parameter_is_parameter_not_found(fake_aws: None) -> None:
    with pytest.raises(parameters.ParameterNotFoundError):
        parameters.read("ssm:/profiles/test/missing")


def test_a_written_parameter_reads_back(fake_aws: None) -> None:
    parameters.write("ssm:/profiles/test/keys", "one")
    parameters.write("ssm:/profiles/test/keys", "two")

    assert parameters.read("ssm:/profiles/test/keys") == "two"


def test_a_reference_of_another_kind_is_parameter_not_found_naming_the_kinds() -> None:
    with pytest.raises(parameters.ParameterNotFoundError, match="use ssm: or file:"):
        parameters.read("secretsmanager:profiles/test/keys")


def test_a_missing_file_is_parameter_not_found(tmp_path: Path) -> None:
    with pytest.raises(parameters.ParameterNotFoundError):
        parameters.read(f"file:{tmp_path / 'missing'}")


def test_a_secret_file_is_readable_by_its_owner_only_even_if_it_existed_before(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    path.write_text("old")
    path.chmod(0o644)

    parameters.write(f"file:{path}", "new")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert parameters.read(f"file:{path}") == "new"
