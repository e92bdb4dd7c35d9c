"""Lambda's event sources on this machine: SQS queues and a DynamoDB stream read as Lambda reads them.

A function of an event source is run the way Lambda runs it: Chalice's own handler
(``app.handler_map[name]``, what the deployed function's ``app.<name>`` is) called with an
event in Lambda's shape, made from what SQS's ``ReceiveMessage`` or the stream's
``GetRecords`` answered. A message is deleted once its handler returned; when the handler
raises, it is left on the queue, and SQS delivers it again after its visibility timeout,
until the queue's redrive policy moves it to the dead-letter queue, as on AWS.

Used by the local stack (``tools/chalice_local.py`` runs one ``Poller`` per service) and
by the tests, which deliver with ``SqsSource.deliver`` one receive at a time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger("lambda-events")

Handler = Callable[[dict[str, Any], Any], Any]
MAX_MESSAGES = 10  # what one ReceiveMessage may return
SHARDS_MAX_AGE_S = 30.0
# How long the poller rests when no source brought anything. Every request of the local
# stack's AWS goes through one moto server, one at a time: each service's turn costs one
# (queue) or two (stream) requests, which an idle stack should barely notice.
IDLE_INTERVAL_S = 0.5


def sqs_event(messages: list[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda gives a function for ``messages`` (``ReceiveMessage``'s, asked for all attributes)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def dynamodb_event(records: list[Mapping[str, Any]], stream_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda gives a function for ``records`` (``GetRecords``'s), times as Lambda sends them."""
    converted = []
    for record in records:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime", time.time())
        if hasattr(created, "timestamp"):
            created = created.timestamp()
        change["ApproximateCreationDateTime"] = float(created)
        change.setdefault("SizeBytes", len(json.dumps(change.get("NewImage", {}))))
        converted.append(
            {
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventVersion": record.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "dynamodb": change,
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": converted}


class Context:
    """What Lambda's context gives a handler that asks (Powertools' logger reads these)."""

    def __init__(self, function_name: str, timeout_s: float = 60.0) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 128
        self.aws_request_id = ""
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke(handler: Handler, name: str, event: dict[str, Any]) -> bool:
    """Call ``handler`` as Lambda would; whether it returned (its error is logged, as Lambda logs it)."""
    import uuid

    context = Context(name)
    context.aws_request_id = str(uuid.uuid4())
    try:
        handler(event, context)
    except Exception:  # Lambda catches every error of a handler, and so does its stand-in
        logger.exception("%s failed; its event's messages stay on the queue, to be delivered again", name)
        return False
    return True


class SqsSource:
    """One queue feeding one function, one receive at a time."""

    def __init__(self, sqs: Any, queue_url: str, handler: Handler, name: str, batch_size: int = 1) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.name = name
        self.batch_size = batch_size
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        self.queue_arn = attributes["QueueArn"]
        self.region = self.queue_arn.split(":")[3]
        redrive = json.loads(attributes.get("RedrivePolicy", "{}"))
        self.max_receives = int(redrive.get("maxReceiveCount", 0)) or None
        self.dead_letters = redrive.get("deadLetterTargetArn", "").rpartition(":")[2]

    def deliver(self) -> int:
        """Receive once (no waiting) and run the function on what came; how many messages came."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return 0
        if invoke(self.handler, self.name, sqs_event(messages, self.queue_arn, self.region)):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
            return len(messages)
        for message in messages:
            received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if self.max_receives and received >= self.max_receives:
                logger.error(
                    "message %s failed its last attempt (%d of %d): SQS moves it to the dead-letter queue %s",
                    message["MessageId"],
                    received,
                    self.max_receives,
                    self.dead_letters,
                )
        return len(messages)


class StreamSource:
    """A DynamoDB table's stream feeding one function, from where it was read last (kept in ``checkpoint``)."""

    def __init__(self, streams: Any, stream_arn: str, handler: Handler, name: str, checkpoint: Path | None = None):
        self.streams = streams
        self.stream_arn = stream_arn
        self.handler = handler
        self.name = name
        self.region = stream_arn.split(":")[3]
        self.checkpoint = checkpoint
        self._last: dict[str, str] = self._load()
        self._shards: list[dict[str, Any]] = []
        self._shards_until = 0.0

    def _load(self) -> dict[str, str]:
        # A checkpoint of another stream (a `make run` before, whose tables are gone) is ignored.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            saved = json.loads(self.checkpoint.read_text())  # type: ignore[union-attr]
            if saved.get("stream") == self.stream_arn:
                return dict(saved["shards"])
        return {}

    def _save(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint.write_text(json.dumps({"stream": self.stream_arn, "shards": self._last}))

    def deliver(self) -> int:
        """Read each shard once, from after the last record delivered, and run the function on what came.

        A batch whose function failed is read again on the next call (Lambda retries a
        stream's batch until it succeeds or its records expire): nothing is skipped. Each
        call asks for a new iterator from the checkpoint: moto replaces a table's stream
        shard when it rolls a failed transaction back, which strands an older iterator.
        """
        now = time.monotonic()
        if now >= self._shards_until:  # a table's shards change rarely: asked again now and then
            self._shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
            self._shards_until = now + SHARDS_MAX_AGE_S
        delivered = 0
        for shard in self._shards:
            shard_id = shard["ShardId"]
            records = self.streams.get_records(ShardIterator=self._iterator(shard_id)).get("Records", [])
            if not records or not invoke(
                self.handler, self.name, dynamodb_event(records, self.stream_arn, self.region)
            ):
                continue
            self._last[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            self._save()
            delivered += len(records)
        return delivered

    def _iterator(self, shard_id: str) -> str:
        after = self._last.get(shard_id)
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        answer = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **position)
        return answer["ShardIterator"]  # type: ignore[no-any-return]


class Deferred:
    """A source made on first use, and made again after it failed to be made (its queue not there yet)."""

    def __init__(self, name: str, make: Callable[[], Any]) -> None:
        self.name = name
        self._make = make
        self._source: Any = None

    def deliver(self) -> int:
        if self._source is None:
            self._source = self._make()
        return self._source.deliver()  # type: ignore[no-any-return]


class Poller:
    """The sources of one process, each asked in turn every ``interval_s`` until ``stop()``: a bounded loop.

    Each turn makes one request per source (and per stream shard), none of which waits; a
    source that brought something is asked again at once. A source that cannot be reached
    (DynamoDB restarting) is logged once and asked again on the next turn.
    """

    def __init__(self, sources: list[Any], interval_s: float = IDLE_INTERVAL_S) -> None:
        self.sources = sources
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lambda-events", daemon=True)
        self._failing: dict[str, str] = {}  # source: the error last logged

    def start(self) -> Poller:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            for source in self.sources:
                try:
                    busy = source.deliver() > 0 or busy
                except Exception as exc:  # noqa: BLE001 - a source that cannot be read now: the next turn tries again
                    if self._failing.get(source.name) != str(exc):  # each new reason once
                        logger.info("the events of %s cannot be read now (asked again each turn): %s", source.name, exc)
                    self._failing[source.name] = str(exc)
                else:
                    self._failing.pop(source.name, None)
            if not busy:
                self._stop.wait(self.interval_s)
