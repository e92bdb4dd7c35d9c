"""What stands in for CodeBuild's surroundings when the buildspec test runs the build.

    python -m tests.support.codebuild aws ARGS...    # the `aws` command the build calls
    python -m tests.support.codebuild make-test      # the suite `make test` would run

``aws``: records each call (``AWS_CALLS``, a JSON line each) and does what ``aws
cloudformation package`` does to a SAM template: uploads each function's local code (here:
copies it into the folder ``S3_DIR``/<bucket>/<md5>) and writes the template with
``CodeUri: s3://<bucket>/<md5>``, as YAML. Any other call fails, so that a new one is noticed.

``make-test``: stands in for the suite inside the build's ``make test`` (the test that runs
the build is itself part of that suite). It records the state of the tree as the suite
would find it (``MAKE_TEST_MARKER``): where each service's ``vendor/servicekit`` leads, and
the options pytest would be given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

CALLS = "AWS_CALLS"
S3_DIR = "S3_DIR"
MARKER = "MAKE_TEST_MARKER"
SHARED = Path("shared") / "servicekit"


def _record(args: list[str]) -> None:
    with open(os.environ[CALLS], "a") as calls:
        calls.write(json.dumps(args) + "\n")


def cloudformation_package(args: list[str]) -> None:
    """``aws cloudformation package``: upload each function's code, write the template pointing at it."""
    parser = argparse.ArgumentParser(prog="aws cloudformation package")
    parser.add_argument("--template-file", required=True, type=Path)
    parser.add_argument("--s3-bucket", required=True)
    parser.add_argument("--output-template-file", required=True, type=Path)
    options = parser.parse_args(args)
    template: dict[str, Any] = json.loads(options.template_file.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        code = options.template_file.parent / resource["Properties"]["CodeUri"]
        key = hashlib.md5(code.read_bytes()).hexdigest()  # noqa: S324 - the name aws gives an upload
        uploaded = Path(os.environ[S3_DIR]) / options.s3_bucket / key
        uploaded.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(code, uploaded)
        resource["Properties"]["CodeUri"] = f"s3://{options.s3_bucket}/{key}"
    options.output_template_file.write_text(yaml.safe_dump(template, sort_keys=False))
    print(f"Successfully packaged artifacts and wrote output template to file {options.output_template_file}.")


def aws(args: list[str]) -> int:
    _record(args)
    if args[:2] == ["cloudformation", "package"]:
        cloudformation_package(args[2:])
        return 0
    print(f"the aws stand-in does not know `aws {' '.join(args)}`", file=sys.stderr)
    return 2


def _leads_to(path: Path) -> dict[str, Any]:
    return {
        "is_link": path.is_symlink(),
        "link": os.readlink(path) if path.is_symlink() else None,
        "resolves_to_shared": path.resolve() == SHARED.resolve(),
    }


def make_test(args: list[str]) -> int:
    vendors = {str(folder): _leads_to(folder / "vendor" / "servicekit") for folder in sorted(Path().glob("*-service"))}
    state = {
        "cwd": os.getcwd(),
        "vendor": vendors,
        "pytest_args": args,
        "PYTEST_ADDOPTS": os.environ.get("PYTEST_ADDOPTS"),
    }
    Path(os.environ[MARKER]).write_text(json.dumps(state, indent=2))
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    sys.exit({"aws": aws, "make-test": make_test}[command](rest))
