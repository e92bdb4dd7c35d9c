"""The events' topic and each subscriber's queues on the local stack, made from the merge templates.

The stacks make them on AWS (``tools/infra.py``); the local stack's bootstrap makes the same
ones in moto's server: the topic of ``UserErased`` (``services.toml``'s ``publishes``),
and for each subscriber its queue, named as its ``app.py`` names it
(``servicekit.events.queue_name``), with the template's redrive policy to its dead-letter
queue, subscribed to the topic with raw delivery. Only the visibility timeout is shorter
here: a failed message comes back after ``LOCAL_VISIBILITY_TIMEOUT_S``, so that a developer
sees a poison message reach the dead-letter queue in seconds.
"""

from __future__ import annotations

import json
from typing import Any

from servicekit import events
from servicekit.env import LOCAL_REGION
from tools import registry

LOCAL_ACCOUNT = "123456789012"  # moto's account
LOCAL_VISIBILITY_TIMEOUT_S = 1
QUEUE_ID, DEAD_LETTER_ID = "UserErasedQueue", "UserErasedDeadLetterQueue"


def topic_name(stage: str) -> str:
    """The topic of UserErased on ``stage`` (the local stack's)."""
    return f"user-erased-{stage}"


def topic_arn(stage: str) -> str:
    """Its ARN in moto's server, known before it is made (the publisher is started first)."""
    return f"arn:aws:sns:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{topic_name(stage)}"


def dead_letter_name(queue: str) -> str:
    """The dead-letter queue of a subscriber's queue."""
    return f"{queue}-dead"


def _properties(service: registry.Service, logical_id: str) -> dict[str, Any]:
    resources = json.loads((service.folder / "resources.json").read_text())["Resources"]
    return resources[logical_id]["Properties"]  # type: ignore[no-any-return]


def create(sns: Any, sqs: Any, stage: str) -> list[str]:
    """Make the topic and every subscriber's queues (existing ones are kept); a line for each."""
    if registry.publisher(events.USER_ERASED) is None:
        return []
    arn = sns.create_topic(Name=topic_name(stage))["TopicArn"]
    lines = [f"topic {topic_name(stage)}: ready"]
    for service in registry.load().services.values():
        if events.USER_ERASED not in service.subscribes:
            continue
        queue = events.queue_name(service.app_name, stage)
        dead = sqs.create_queue(
            QueueName=dead_letter_name(queue),
            Attributes={"MessageRetentionPeriod": str(_properties(service, DEAD_LETTER_ID)["MessageRetentionPeriod"])},
        )["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = {**_properties(service, QUEUE_ID)["RedrivePolicy"], "deadLetterTargetArn": dead_arn}
        url = sqs.create_queue(
            QueueName=queue,
            Attributes={"VisibilityTimeout": str(LOCAL_VISIBILITY_TIMEOUT_S), "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        lines.append(f"queue {queue} (dead letters: {dead_letter_name(queue)}): subscribed")
    return lines
