"""The services' stages: folders, stacks, stage variables, tables (the services themselves: tools.registry)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tools import registry
from tools.registry import ROOT, SERVICES

__all__ = [
    "LOCAL_STAGE",
    "PARAMETERS",
    "ROOT",
    "SERVICES",
    "enter_auth_service",
    "fingerprint_parameter",
    "folder",
    "jwks_parameter",
    "parameter",
    "stack_name",
    "stage_env",
    "table_name",
]
LOCAL_STAGE = "local"  # the stage of `make run` and the tests; never deployed
# A stage's SSM parameters, a folder per service: what its functions read (its secrets, the
# issuer's URL), the public keys every stack hands its authorizer, what the tools record.
PARAMETERS = "/profiles/{stage}/{service}/{name}"


def folder(name: str) -> Path:
    """The service's Chalice project folder."""
    return registry.service(name).folder


def stack_name(service: str, stage: str) -> str:
    """The CloudFormation stack of a service's stage, as the pipeline deploys it."""
    return f"{service}-service-{stage}"


def parameter(service: str, stage: str, name: str) -> str:
    """The name of one of the service's SSM parameters on ``stage``."""
    return PARAMETERS.format(stage=stage, service=service, name=name)


def jwks_parameter(stage: str) -> str:
    """The SSM parameter holding the stage's public JWKS, which every stack hands to its authorizer."""
    return parameter(registry.issuer().name, stage, "jwks")


def fingerprint_parameter(service: str, stage: str) -> str:
    """The SSM parameter holding the fingerprint of the inputs the service's stack was last deployed from."""
    return parameter(service, stage, "deployed-inputs")


def stage_env(service: str, stage: str) -> dict[str, str]:
    """The environment variables Chalice sets for the service's stage."""
    config = json.loads((folder(service) / ".chalice" / "config.json").read_text())
    if stage not in config["stages"]:
        raise SystemExit(f"{service}-service has no stage {stage!r} (stages: {', '.join(config['stages'])})")
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def table_name(service: str, stage: str) -> str:
    """The table the service uses on ``stage``."""
    return stage_env(service, stage)["TABLE_NAME"]


def enter_auth_service(stage: str) -> None:
    """Make the auth service's ``chalicelib`` importable, with its stage's environment.

    Only the auth service is ever entered by a tool process, so its ``chalicelib`` cannot
    collide with another's. The stage's variables replace any of the same name in the
    environment, as Chalice's do (a ``TABLE_NAME`` left in the shell must not redirect
    the bootstrap); what the stage leaves out still comes from the environment (on the
    local stage, ``tools.admin`` puts the stack's addresses and secrets back over the
    stage's defaults).
    """
    auth = registry.issuer().name
    if str(folder(auth)) not in sys.path:
        sys.path.insert(0, str(folder(auth)))
    os.environ.update(stage_env(auth, stage))
