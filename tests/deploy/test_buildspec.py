"""The pipeline's build, run as CodeBuild runs it: every command of buildspec.yml, in order, in a fresh copy.

CodeBuild runs each command of the ``install``, ``pre_build`` and ``build`` phases with
``bash -c`` from the top of the source, stops at the first that fails, then collects the
``artifacts``. So does this test, on a fresh copy of the repository (and on one whose
``vendor/`` links were lost on the way, as a source archive may lose them), with the
variables the CodeBuild project of pipeline.json sets and what CodeBuild itself sets.

What stands in for what (tests.support.codebuild):
- ``aws`` is a stand-in on the PATH that records its calls and does what ``aws
  cloudformation package`` does (uploads each function's code into a folder, writes the
  template pointing at it);
- the suite inside the build's ``make test`` (this test is part of it) is replaced, through
  the Makefile's ``PYTEST``, by a marker that records the tree as the suite would find it:
  everything else of ``make test`` (the environment check, the links, lint, types) runs;
- the release (``tools.release``: CloudFormation change sets of SAM templates, which moto
  cannot expand) is the one command skipped, by name.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import codebuild, repository, services
from tools import pipeline

pytestmark = [pytest.mark.deploy]

PHASES = ("install", "pre_build", "build")  # the phases whose commands CodeBuild runs, in order
COMMAND_TIMEOUT_S = 600
REGION = "us-east-1"
# What the CodeBuild project's variables stand for here (pipeline.json gives CloudFormation expressions).
STAND_INS = {
    "ApplicationBucket": "profiles-pipeline-applicationbucket-1a2b3c4d5e6f",
    "AlarmEmail": "ops@example.com",
    "CFNDeployRole.Arn": "arn:aws:iam::123456789012:role/profiles-pipeline-CFNDeployRole-1A2B3C4D5E6F",
}
SERVICE_LINK = os.path.join("..", "..", "shared", "servicekit")  # a service's vendor/servicekit


@dataclass(frozen=True)
class Build:
    """A build as CodeBuild ran it: the source folder, the commands run and skipped, what the stand-ins saw."""

    root: Path
    environment: dict[str, str]
    ran: list[str]
    skipped: list[str]
    marker: dict[str, Any] | None
    aws_calls: list[list[str]]
    s3: Path


def codebuild_variables(template: dict[str, Any]) -> dict[str, str]:
    """The variables the CodeBuild project of ``template`` sets, its expressions resolved to stand-ins."""
    parameters = template["Parameters"]

    def value(expression: Any) -> str:
        if isinstance(expression, str):
            return expression
        if "Ref" in expression and expression["Ref"] in parameters and "Default" in parameters[expression["Ref"]]:
            return str(parameters[expression["Ref"]]["Default"])
        if "Ref" in expression:
            return STAND_INS[expression["Ref"]]
        return STAND_INS[".".join(expression["Fn::GetAtt"])]

    project = template["Resources"]["AppPackageBuild"]["Properties"]
    return {v["Name"]: value(v["Value"]) for v in project["Environment"]["EnvironmentVariables"]}


def _stand_ins(folder: Path, python: str) -> Path:
    """A folder for the PATH with the ``aws`` stand-in."""
    folder.mkdir()
    aws = folder / "aws"
    aws.write_text(f'#!/bin/sh\nexec {shlex.quote(python)} -m tests.support.codebuild aws "$@"\n')
    aws.chmod(0o755)
    return folder


def _environment(root: Path, work: Path) -> dict[str, str]:
    """CodeBuild's environment: the project's variables, CodeBuild's own, the stand-ins; nothing of this test run."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        # MAKEFLAGS and its kin would hand this run's `make` variables (a PYTEST given on its
        # command line, above all) to the build's own `make test`.
        if not k.startswith(("PYTEST", "AWS_", "COV_", "LOCAL_", "_", "MAKE", "MFLAGS")) and k != "STAGE"
    }
    python = str(root / ".venv" / "bin" / "python")
    return {
        **inherited,
        "PATH": f"{_stand_ins(work / 'bin', python)}{os.pathsep}{inherited['PATH']}",
        # What CodeBuild sets for every build.
        "CODEBUILD_SRC_DIR": str(root),
        "CODEBUILD_BUILD_ID": "profiles-build:0a1b2c3d",
        "CODEBUILD_CI": "true",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **codebuild_variables(json.loads((root / pipeline.PIPELINE).read_text())),
        # The stand-ins' records, and the suite of the inner `make test` replaced by the marker.
        codebuild.CALLS: str(work / "aws-calls.jsonl"),
        codebuild.S3_DIR: str(work / "s3"),
        codebuild.MARKER: str(work / "make-test.json"),
        "PYTEST": f"{shlex.quote(python)} -m tests.support.codebuild make-test",
    }


def _run_command(command: str, root: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One buildspec command in bash, in a process group of its own: a timeout stops all it started."""
    with subprocess.Popen(
        ["bash", "-c", command],
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_build(root: Path, work: Path) -> Build:
    """Run the buildspec of ``root`` as CodeBuild does; fail at the first command that fails."""
    spec = yaml.safe_load((root / pipeline.BUILDSPEC).read_text())
    environment = _environment(root, work)
    ran, skipped = [], []
    for phase in PHASES:
        for command in spec["phases"].get(phase, {}).get("commands", []):
            if command == pipeline.RELEASE_COMMAND:
                skipped.append(command)
                continue
            result = _run_command(command, root, environment)
            assert result.returncode == 0, (
                f"phase {phase}: `{command}` failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
            ran.append(command)
    marker = Path(environment[codebuild.MARKER])
    calls = Path(environment[codebuild.CALLS])
    return Build(
        root=root,
        environment=environment,
        ran=ran,
        skipped=skipped,
        marker=json.loads(marker.read_text()) if marker.exists() else None,
        aws_calls=[json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else [],
        s3=Path(environment[codebuild.S3_DIR]),
    )


def lose_links(root: Path) -> None:
    """What a source archive that does not keep symlinks leaves: a small file holding the link's target."""
    for name in services.SERVICES:
        link = root / f"{name}-service" / "vendor" / "servicekit"
        target = os.readlink(link)
        link.unlink()
        link.write_text(target)


# One build for each kind of source, each on one worker (its tests share it).
@pytest.fixture(
    scope="module",
    params=[
        pytest.param("links kept", marks=pytest.mark.xdist_group("buildspec-links-kept")),
        pytest.param("links lost", marks=pytest.mark.xdist_group("buildspec-links-lost")),
    ],
)
def build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Build]:
    work = tmp_path_factory.mktemp("codebuild")
    root = repository.copy(work / "src")
    if request.param == "links lost":
        lose_links(root)
    yield run_build(root, work)


def test_the_build_runs_every_command_but_the_release_which_it_skips_by_name(build: Build) -> None:
    spec = yaml.safe_load((build.root / pipeline.BUILDSPEC).read_text())
    commands = [c for phase in PHASES for c in spec["phases"].get(phase, {}).get("commands", [])]

    assert build.skipped == [pipeline.RELEASE_COMMAND]
    assert build.ran == [c for c in commands if c != pipeline.RELEASE_COMMAND]
    (version,) = re.findall(r"^PYTHON_VERSION := (\S+)$", (build.root / "Makefile").read_text(), re.MULTILINE)
    assert spec["phases"]["install"]["runtime-versions"] == {"python": version}


def test_make_test_runs_the_whole_suite_on_the_tree_as_a_developer_has_it(build: Build) -> None:
    assert build.marker is not None, "the build never reached the suite of `make test`"

    # Each service reaches the shared library through its link, as in a clone: paths that the
    # suite and the local stack compute are the same as on a developer's machine.
    assert build.marker["vendor"] == {
        f"{name}-service": {"is_link": True, "link": SERVICE_LINK, "resolves_to_shared": True}
        for name in services.SERVICES
    }
    assert Path(build.marker["cwd"]) == build.root
    # Nothing deselected: the CodeBuild image has Chromium, so the browser tests run there too.
    assert build.marker["PYTEST_ADDOPTS"] is None


def test_each_service_is_packaged_with_a_copy_of_the_shared_library_and_uploaded(build: Build) -> None:
    bucket = build.environment["APP_S3_BUCKET"]

    assert build.aws_calls == [
        [
            "cloudformation",
            "package",
            "--template-file",
            f"build/packaged/{name}-service/sam.json",
            "--s3-bucket",
            bucket,
            "--output-template-file",
            f"{name}-service.yaml",
        ]
        for name in services.SERVICES
    ]
    for name in services.SERVICES:
        template = yaml.safe_load((build.root / f"{name}-service.yaml").read_text())
        functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
        (code,) = {f["Properties"]["CodeUri"] for f in functions}
        assert code.startswith(f"s3://{bucket}/")
        with zipfile.ZipFile(build.s3 / code.removeprefix("s3://")) as package:
            names = set(package.namelist())
        # The library's files themselves, and the bytecode tools.bytecode adds.
        assert {"app.py", "servicekit/env.py", "servicekit/tokens.py"} <= names
        assert any(n.startswith("servicekit/__pycache__/env.") for n in names)


def test_the_artifacts_the_buildspec_lists_exist_at_the_end(build: Build) -> None:
    spec = yaml.safe_load((build.root / pipeline.BUILDSPEC).read_text())

    assert spec["artifacts"]["files"] == [f"{name}-service.yaml" for name in services.SERVICES]
    for artifact in spec["artifacts"]["files"]:
        assert (build.root / artifact).is_file(), artifact


def test_make_refuses_the_copies_a_build_leaves_and_says_how_to_put_the_link_back(build: Build) -> None:
    # GIVEN the tree the build left: each vendor/servicekit a copy (which might hold edits)
    assert all(not (build.root / f"{n}-service" / "vendor" / "servicekit").is_symlink() for n in services.SERVICES)

    # WHEN make prepares it as for `make test` or `make run`
    result = subprocess.run(["make", "links"], cwd=build.root, capture_output=True, text=True, timeout=60)

    # THEN it stops, naming the copy and the command that puts the link back
    first = f"{services.SERVICES[0]}-service/vendor/servicekit"
    assert result.returncode != 0
    assert f"{first} is not the link to {SERVICE_LINK}" in result.stderr
    assert f"rm -rf {first}" in result.stderr
