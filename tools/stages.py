"""What the tools need to know about the services: folders, stage variables, tables."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("auth", "location", "profile")


def folder(service: str) -> Path:
    """The service's Chalice project folder."""
    return ROOT / f"{service}-service"


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
    """Make the auth service's ``chalicelib`` and the shared library importable, with its stage's environment.

    Only the auth service is ever entered by a tool process, so its ``chalicelib`` cannot
    collide with another's. Variables already set in the environment win, as they do
    for the local stack's addresses.
    """
    for path in (ROOT / "shared", folder("auth")):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    for name, value in stage_env("auth", stage).items():
        os.environ.setdefault(name, value)
