"""The events' plumbing under moto, as the stacks make it: the topic, each subscriber's queue and dead-letter queue."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from servicekit import events
from tests.support import services
from tools import registry
from tools.lambda_events import SqsSource, StreamSource


@dataclass
class Plumbing:
    """The topic of UserErased, and by subscriber its queue and dead-letter queue (URLs)."""

    sns: Any
    sqs: Any
    topic_arn: str
    queues: dict[str, str] = field(default_factory=dict)
    dead_letters: dict[str, str] = field(default_factory=dict)

    def source(self, service: str, client: Any) -> SqsSource:
        """The subscriber's queue feeding its ``erase_user`` function (``client``: its chalice.test.Client)."""
        return SqsSource(self.sqs, self.queues[service], _with_stage(client, "erase_user"), "erase_user")

    def send(self, service: str, body: str) -> None:
        """Put ``body`` on the subscriber's queue, as the topic would."""
        self.sqs.send_message(QueueUrl=self.queues[service], MessageBody=body)

    def bodies(self, service: str, *, dead: bool = False) -> list[str]:
        """The bodies waiting on the subscriber's queue (or its dead-letter queue), received and left there."""
        url = (self.dead_letters if dead else self.queues)[service]
        answer = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [m["Body"] for m in answer.get("Messages", [])]


def _with_stage(client: Any, name: str) -> Any:
    """The function as chalice.test runs it: Chalice's own handler, with its stage's variables."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        return client.lambda_.invoke(name, event).payload

    return handler


def plumbing(session: Any, region: str) -> Plumbing:
    """Make the topic, and each subscriber's queues subscribed with raw delivery (what the stacks make)."""
    sns, sqs = session.client("sns", region_name=region), session.client("sqs", region_name=region)
    topic_arn = sns.create_topic(Name="user-erased")["TopicArn"]
    made = Plumbing(sns, sqs, topic_arn)
    for name in services.SERVICES:
        if events.USER_ERASED not in registry.service(name).subscribes:
            continue
        dead = sqs.create_queue(QueueName=f"{name}-user-erased-dead")["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = {"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(events.MAX_RECEIVES)}
        queue = sqs.create_queue(
            QueueName=f"{name}-user-erased",
            Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        made.queues[name], made.dead_letters[name] = queue, dead
    return made


def stream(session: Any, region: str, client: Any) -> StreamSource:
    """The auth table's stream feeding the auth service's ``publish_erasures`` (``client``: its test client)."""
    dynamodb = session.client("dynamodb", region_name=region)
    arn = dynamodb.describe_table(TableName=services.table_name("auth"))["Table"]["LatestStreamArn"]
    # botocore 1.44 addresses streams at <account>.streams-ddb.<region>; moto 5.2.5 answers only the older name.
    streams = session.client(
        "dynamodbstreams", region_name=region, endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com"
    )
    return StreamSource(streams, arn, _with_stage(client, "publish_erasures"), "publish_erasures")
