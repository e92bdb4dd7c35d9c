"""The process's AWS clients, all from one boto3 session made on first use.

A botocore session loads the SDK's shared data (endpoints, retry rules, defaults) once;
each client then loads only its own service's model. One session for DynamoDB and SSM
halves what a cold start spends making the two clients (about 210 ms of CPU down to 110
at a full vCPU, measured by ``make bench``'s machine). boto3 is imported here, on first
use only: importing ``app.py`` stays free of it.

botocore clients are thread-safe; creating them from one session is not, so creation
takes a lock (it is CPU-bound under the GIL anyway).
"""

from __future__ import annotations

import threading
from typing import Any

from . import env
from .lazy import Lazy

_creating = threading.Lock()


def region() -> str | None:
    """The region: Lambda's ``AWS_REGION``, else ``AWS_DEFAULT_REGION`` (the local stage's default)."""
    return env.optional("AWS_REGION") or env.optional("AWS_DEFAULT_REGION")


def _new_session() -> Any:
    import boto3

    return boto3.session.Session(region_name=region())


session = Lazy(_new_session)
"""The process's boto3 session."""


def client(kind: str, **options: Any) -> Any:
    """A new client of the AWS service ``kind`` (``"dynamodb"``, ``"ssm"``) from the process's session."""
    with _creating:
        return session().client(kind, **options)
