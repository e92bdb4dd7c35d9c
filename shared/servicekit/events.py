"""Events between the services: ``UserErased``, published on one SNS topic, read from each subscriber's SQS queue.

The auth service publishes (``publish``) from the function its table's stream invokes;
each service that keeps data about a user subscribes with its own queue and dead-letter
queue (``services.toml``'s ``publishes`` and ``subscribes``, ``tools/infra.py``), and
erases through ``each_user_erased``, which gives every log line the erasure's
correlation id and counts ``ErasuresCompleted``, ``ErasureLatency`` and, on a message's
last attempt, ``ErasuresDeadLettered``. Delivery is at least once: the eraser must be
idempotent (``Table.erase`` is).

boto3 is imported on first use only, as everywhere in this library.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from . import aws, env, metrics
from .clock import clock
from .lazy import Lazy
from .observability import correlated, logger

USER_ERASED = "UserErased"
TOPIC_VARIABLE = "EVENTS_TOPIC_ARN"  # the publisher's topic (its stack's, or the local stack's)
# For `chalice deploy`, which needs them when it imports app.py (the stacks refer to their own):
STREAM_VARIABLE = "TABLE_STREAM_ARN"  # the publisher's table stream
QUEUE_VARIABLE = "USER_ERASED_QUEUE_ARN"  # a subscriber's queue
PLACEHOLDER_ACCOUNT = "123456789012"  # moto's: the local stack's ARNs are these
# A message is received at most this often before SQS moves it to the dead-letter queue
# (the queues' redrive policy, tools/infra.py; the local stack's queues too).
MAX_RECEIVES = 5
# Subscribers take one message per invocation: a poison message then fails alone, and
# never takes the good ones of its batch to the dead-letter queue with it.
BATCH_SIZE = 1


class UserErased(msgspec.Struct, frozen=True, tag=USER_ERASED, tag_field="type", kw_only=True):
    """A user's account was erased: every service erases what it keeps about ``user_id``."""

    user_id: str
    erasure_id: str
    correlation_id: str
    requested_at: float  # seconds since the epoch: when the auth service answered 202


class PoisonMessageError(ValueError):
    """A message that is no event this service knows: it can only end in the dead-letter queue."""


def encode(event: UserErased) -> str:
    """The message body of ``event``."""
    return msgspec.json.encode(event).decode()


def decode(body: str) -> UserErased:
    """The event in a message body; ``PoisonMessageError`` if it is none."""
    try:
        return msgspec.json.decode(body, type=UserErased)
    except msgspec.ValidationError as exc:  # DecodeError is a subclass
        raise PoisonMessageError(f"not a {USER_ERASED} event: {exc}") from None


def _new_sns_client() -> Any:
    return aws.client("sns")


sns = Lazy(_new_sns_client)
"""The process's SNS client (boto3 honours ``AWS_ENDPOINT_URL_SNS``: the local stack's)."""


def publish(event: UserErased) -> None:
    """Publish ``event`` on the topic; an error propagates, so that the stream delivers its record again."""
    sns().publish(
        TopicArn=env.required(TOPIC_VARIABLE),
        Message=encode(event),
        MessageAttributes={"type": {"DataType": "String", "StringValue": USER_ERASED}},
    )
    with correlated(event.correlation_id):
        logger().info("published %s", USER_ERASED, extra={"user_id": event.user_id, "erasure_id": event.erasure_id})
        metrics.count(metrics.ERASURES_PUBLISHED)


def queue_name(app_name: str, stage: str | None = None) -> str:
    """The name of ``app_name``'s queue of ``UserErased`` on ``stage`` (the one Chalice imports ``app.py`` for)."""
    return f"{app_name}-{stage or os.environ.get(env.STAGE) or env.LOCAL_STAGE}-user-erased"


def queue_arn(app_name: str) -> str:
    """``app_name``'s queue as Chalice needs it when it imports ``app.py`` (with the stage's variables).

    The one place a resource is named at import: Chalice writes it into the function's event
    source. The stacks then put their own queue's ARN there (``tools/infra.py``); the local
    stack's is this one, in moto's account.
    """
    region = os.environ.get("AWS_DEFAULT_REGION") or env.LOCAL_REGION
    return os.environ.get(QUEUE_VARIABLE) or f"arn:aws:sqs:{region}:{PLACEHOLDER_ACCOUNT}:{queue_name(app_name)}"


def stream_arn(table: str) -> str:
    """The publisher's table stream as Chalice needs it at import (the stacks refer to their own table's)."""
    region = os.environ.get("AWS_DEFAULT_REGION") or env.LOCAL_REGION
    fallback = f"arn:aws:dynamodb:{region}:{PLACEHOLDER_ACCOUNT}:table/{table}/stream/local"
    return os.environ.get(STREAM_VARIABLE) or fallback


def each_user_erased(records: Iterable[Any], erase: Callable[[UserErased], bool]) -> None:
    """Erase the user of each SQS record (Chalice's ``SQSRecord``) with ``erase``, which says whether it erased now.

    An error propagates: Lambda leaves the message on the queue, SQS delivers it again after
    its visibility timeout, and after ``MAX_RECEIVES`` receives moves it to the dead-letter
    queue; the last failure is counted as ``ErasuresDeadLettered`` (the queue's alarm fires too).
    """
    for record in records:
        received = int(record.to_dict().get("attributes", {}).get("ApproximateReceiveCount", "1"))
        last = received >= MAX_RECEIVES
        try:
            event = decode(record.body)
        except PoisonMessageError:
            logger().error("a message that is no %s event (receive %d of %d)", USER_ERASED, received, MAX_RECEIVES)
            if last:
                metrics.count(metrics.ERASURES_DEAD_LETTERED)
            raise
        with correlated(event.correlation_id):
            _erase(event, erase, received, last)


def _erase(event: UserErased, erase: Callable[[UserErased], bool], received: int, last: bool) -> None:
    fields = {"user_id": event.user_id, "erasure_id": event.erasure_id, "receive": received}
    try:
        erased_now = erase(event)
    except Exception:
        logger().exception("erasing the user failed (receive %d of %d)", received, MAX_RECEIVES, extra=fields)
        if last:
            metrics.count(metrics.ERASURES_DEAD_LETTERED)
        raise
    if not erased_now:
        logger().info("the user was erased here already (a redelivery)", extra=fields)
        return
    latency_ms = max(0.0, (clock().timestamp() - event.requested_at) * 1000)
    logger().info("erased the user", extra={**fields, "latency_ms": round(latency_ms, 1)})
    metrics.count(metrics.ERASURES_COMPLETED)
    metrics.measure(metrics.ERASURE_LATENCY, round(latency_ms, 1))
