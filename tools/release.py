"""The pipeline's deploy step: the service stacks whose inputs changed, and only those, in dependency order.

    python -m tools.release --stage prod --alarm-email ops@example.com \\
        --bucket <application bucket> --role-arn <CloudFormation deploy role>   # deploy
    python -m tools.release --stage prod --plan                                 # say what would deploy

A service's inputs are what its stack is made from: its folder (code, requirements,
``.chalice/config.json``, ``resources.json``), ``shared/`` (vendored into it),
``requirements-dev.txt`` (which pins the Chalice that packages it),
``tools/bytecode.py`` (which adds the bytecode to the package), and the public JWKS its
authorizer is handed (the SSM parameter ``/profiles/<stage>/auth/jwks`` that the key ring
commands of ``tools.admin`` write, read by CloudFormation as the stack parameter
``HandedOverJwks``): adding or retiring a signing key is a change of every stack.
Their fingerprint is a SHA-256 over paths, contents and that JWKS. After a stack is
created or updated, the fingerprint it was made from is stored in SSM
(``/profiles/<stage>/<service>/deployed-inputs``); the next release deploys a service only
when its fingerprint differs from the stored one (or none is stored). Services go in
``tools.stages.SERVICES`` order, and the first failure stops the release: a later service
may import what an earlier one exports.

Each deployment is a change set (created, then executed) of the stack
``<service>-service-<stage>``, made with the CloudFormation deploy role. A stack left in
ROLLBACK_COMPLETE by a failed first create cannot be updated: it is deleted, then
created again.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from tools import stages

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
# tools/bytecode.py makes part of every package, as the Chalice requirements-dev.txt pins does.
SHARED_INPUTS = ("shared", "requirements-dev.txt", "tools/bytecode.py")
NOT_INPUTS = {"__pycache__", "deployed", "deployments", ".pytest_cache", ".mypy_cache"}
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
CHANGE_SET = "release"
POLL_S = 5


def template_file(service: str, root: Path = stages.ROOT) -> Path:
    """Where the build leaves the service's packaged template."""
    return root / f"{service}-service.yaml"


def handed_over_jwks(ssm: Any, stage: str) -> str:
    """The JWKS the stacks of ``stage`` would hand to their authorizers if deployed now."""
    try:
        return str(ssm.get_parameter(Name=stages.jwks_parameter(stage))["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        raise SystemExit(
            f"there is no parameter {stages.jwks_parameter(stage)}: "
            f"run `python -m tools.admin create-signing-keys --stage {stage}` first"
        ) from None


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    # Symbolic links are followed: vendor/servicekit is one locally and a copy in the build.
    found = []
    for folder, subfolders, names in os.walk(path, followlinks=True):
        subfolders[:] = sorted(s for s in subfolders if s not in NOT_INPUTS)
        found += [Path(folder) / n for n in names if not n.endswith(".pyc")]
    return sorted(found)


def fingerprint(service: str, jwks: str, root: Path = stages.ROOT) -> str:
    """SHA-256 over the relative paths and contents of the files the service's stack is made from, and ``jwks``."""
    digest = hashlib.sha256()
    for top in (f"{service}-service", *SHARED_INPUTS):
        for path in _files(root / top):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(b"JWKS\0" + hashlib.sha256(jwks.encode()).digest())
    return digest.hexdigest()


def fingerprints(ssm: Any, stage: str, root: Path = stages.ROOT) -> dict[str, str]:
    """Each service's fingerprint, with the JWKS its stack would hand over now."""
    jwks = handed_over_jwks(ssm, stage)
    return {service: fingerprint(service, jwks, root) for service in stages.SERVICES}


def _stored(ssm: Any, service: str, stage: str) -> str | None:
    try:
        return str(ssm.get_parameter(Name=stages.fingerprint_parameter(service, stage))["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def changed(ssm: Any, stage: str, root: Path = stages.ROOT) -> list[str]:
    """The services whose inputs differ from those their stacks were last deployed from, in order."""
    return _changed(ssm, stage, fingerprints(ssm, stage, root))


def _changed(ssm: Any, stage: str, inputs: dict[str, str]) -> list[str]:
    return [s for s in stages.SERVICES if _stored(ssm, s, stage) != inputs[s]]


def _stack_status(cloudformation: Any, stack: str) -> str | None:
    try:
        (found,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except cloudformation.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return str(found["StackStatus"])


def _wait_for_change_set(cloudformation: Any, stack: str) -> dict[str, Any]:
    while True:
        change_set: dict[str, Any] = cloudformation.describe_change_set(StackName=stack, ChangeSetName=CHANGE_SET)
        if change_set["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return change_set
        time.sleep(POLL_S)


class Release:
    """What one run of the deploy step works with."""

    def __init__(self, stage: str, alarm_email: str, bucket: str, role_arn: str, root: Path = stages.ROOT) -> None:
        self.stage, self.alarm_email, self.bucket, self.role_arn, self.root = stage, alarm_email, bucket, role_arn, root

    @property
    def parameters(self) -> dict[str, str]:
        """The stack parameters every service's merge template declares without a default.

        ``HandedOverJwks`` is an SSM parameter type: CloudFormation reads the parameter's
        value when it makes each change set, not a value passed here.
        """
        jwks = stages.jwks_parameter(self.stage)
        return {"Stage": self.stage, "AlarmEmail": self.alarm_email, "HandedOverJwks": jwks}


def deploy_stack(cloudformation: Any, s3: Any, service: str, release: Release, inputs: str) -> str:
    """Create and execute one change set of the service's stack (``inputs``: its fingerprint); what happened."""
    stack = stages.stack_name(service, release.stage)
    status = _stack_status(cloudformation, stack)
    if status == "ROLLBACK_COMPLETE":  # a failed first create: only deleting it lets it be created again
        print(f"{stack}: ROLLBACK_COMPLETE after a failed create; deleting it first")
        cloudformation.delete_stack(StackName=stack, RoleARN=release.role_arn)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack)
        status = None
    elif status is not None:  # one left by a release that stopped half-way
        with contextlib.suppress(cloudformation.exceptions.ClientError):
            cloudformation.delete_change_set(StackName=stack, ChangeSetName=CHANGE_SET)
    # Through S3: a template in the request may not exceed 51,200 bytes.
    key = f"templates/{stack}/{inputs}.yaml"
    s3.upload_file(str(template_file(service, release.root)), release.bucket, key)
    kind = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
    cloudformation.create_change_set(
        StackName=stack,
        ChangeSetName=CHANGE_SET,
        ChangeSetType=kind,
        TemplateURL=f"https://{release.bucket}.s3.{s3.meta.region_name}.amazonaws.com/{key}",
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in release.parameters.items()],
        Capabilities=CAPABILITIES,
        RoleARN=release.role_arn,
    )
    change_set = _wait_for_change_set(cloudformation, stack)
    if change_set["Status"] == "FAILED":
        reason = change_set.get("StatusReason", "")
        cloudformation.delete_change_set(StackName=stack, ChangeSetName=CHANGE_SET)
        if any(text in reason for text in NO_CHANGES):
            return "unchanged template"
        raise SystemExit(f"{stack}: the change set failed: {reason}")
    cloudformation.execute_change_set(StackName=stack, ChangeSetName=CHANGE_SET)
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    cloudformation.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": POLL_S, "MaxAttempts": 720})
    return "created" if kind == "CREATE" else "updated"


def release(run: Release, session: Any) -> list[str]:
    """Deploy the changed services in order; return them."""
    ssm, cloudformation, s3 = session.client("ssm"), session.client("cloudformation"), session.client("s3")
    # The JWKS is read before any change set: should the key ring change meanwhile, the
    # stored fingerprints are older than what was deployed and the next release deploys again.
    inputs = fingerprints(ssm, run.stage, run.root)
    services = _changed(ssm, run.stage, inputs)
    for service in stages.SERVICES:
        stack = stages.stack_name(service, run.stage)
        if service not in services:
            print(f"{stack}: inputs unchanged since its last deployment; not deployed")
            continue
        print(f"{stack}: {deploy_stack(cloudformation, s3, service, run, inputs[service])}")
        ssm.put_parameter(
            Name=stages.fingerprint_parameter(service, run.stage),
            Value=inputs[service],
            Type="String",
            Overwrite=True,
        )
    return services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.release", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--plan", action="store_true", help="only print the services that would deploy")
    parser.add_argument("--alarm-email", default=os.environ.get("ALARM_EMAIL"))
    parser.add_argument("--bucket", default=os.environ.get("APP_S3_BUCKET"), help="where templates are uploaded")
    parser.add_argument("--role-arn", default=os.environ.get("CFN_DEPLOY_ROLE"), help="CloudFormation's role")
    args = parser.parse_args(argv)
    import boto3

    session = boto3.session.Session()
    if args.plan:
        print(" ".join(changed(session.client("ssm"), args.stage)) or "nothing to deploy")
        return 0
    missing = [flag for flag in ("alarm_email", "bucket", "role_arn") if not getattr(args, flag)]
    if missing:
        parser.error("missing: " + ", ".join("--" + m.replace("_", "-") for m in missing))
    release(Release(args.stage, args.alarm_email, args.bucket, args.role_arn), session)
    return 0


if __name__ == "__main__":
    sys.exit(main())
