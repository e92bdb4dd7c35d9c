"""One Lambda function's life in a fresh process: cold start, first invocation, warm invocations.

Run by ``tools.bench`` as a script (``python coldpath.py SPEC``) in the service's folder,
inside the CPU share the bench gives it. It imports nothing of its own before ``app``, so
what it measures is what a Lambda execution environment does: import the handler's
module, then call the handler the deployment names (Chalice's ``app.app`` for the API
function, ``app.<authorizer>`` for the authorizer) with the events in SPEC.

It prints one JSON line (after ``MARK``) when the first invocation has answered (the parent notes the
time it reads it: process start to response), then one with the warm invocations.
"""

import json
import sys
import time

started = time.perf_counter()
MARK = "@bench "  # the function's own logs go to stdout too
spec = json.loads(sys.argv[1])
sys.path[:0] = [".", "vendor"]

import app as module  # noqa: E402 - the cold start is this import

imported = time.perf_counter()
handler = getattr(module, spec["handler"])
# When named functions of the app are first called (``"name": "module.function"``), on the
# clock the bench reads too (perf_counter is CLOCK_MONOTONIC, the same in every process).
marks: dict = {}


def _mark(name: str, target: str) -> None:
    module_name, _, attribute = target.rpartition(".")
    owner = sys.modules[module_name]
    original = getattr(owner, attribute)

    def marked(*args: object, **kwargs: object) -> object:
        marks.setdefault(name, time.perf_counter())
        return original(*args, **kwargs)

    setattr(owner, attribute, marked)


for mark_name, mark_target in spec.get("marks", {}).items():
    _mark(mark_name, mark_target)


class Context:
    """The parts of Lambda's context object that Chalice and Powertools read."""

    function_name = spec["handler"]
    memory_limit_in_mb = spec["memory_mb"]
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def invoke(event: dict) -> dict:
    """Call the handler; ``ok`` unless it answered with an error status or an authorizer's Deny."""
    answer = handler(event, Context())
    status, policy = answer.get("statusCode"), answer.get("policyDocument")
    if policy is not None:
        ok = all(statement["Effect"] == "Allow" for statement in policy["Statement"])
    else:
        ok = status is not None and status < 400
    return {"status": status, "body": answer.get("body"), "policy": policy, "ok": ok}


first_event = spec["events"][0]["event"]
first = invoke(first_event)
answered = time.perf_counter()
print(
    MARK
    + json.dumps(
        {
            "import_s": imported - started,
            "first_s": answered - imported,
            "cpu_s": time.process_time(),
            "answer": first,
            "marks": marks,
        }
    ),
    flush=True,
)
# From here on (the cold figure is out), count each warm invocation's DynamoDB request units
# through botocore's event hooks: a strongly consistent read of a small item is 1 RRU, a
# write 1 WRU, each item of a transaction twice that.
units = {"read": 0.0, "write": 0.0}


def count(params: dict, model: object, **_: object) -> None:
    name = getattr(model, "name", "")
    if name in ("GetItem", "Query"):
        units["read"] += 1 if params.get("ConsistentRead") else 0.5
    elif name in ("PutItem", "UpdateItem", "DeleteItem"):
        units["write"] += 1
    elif name == "TransactWriteItems":
        units["write"] += 2 * len(params.get("TransactItems", []))


dynamo = sys.modules.get("servicekit.dynamo")
if dynamo is not None and dynamo.dynamodb._built:
    dynamo.dynamodb().meta.events.register("provide-client-params.dynamodb.*", count)
warm: dict[str, list[dict[str, float]]] = {}
failed: list[dict] = []  # warm invocations that did not succeed: their figures would time something else
for entry in spec["events"]:
    runs = []
    for _ in range(spec["warm"]):
        units.update(read=0.0, write=0.0)
        before, before_cpu = time.perf_counter(), time.process_time()
        answer = invoke(entry["event"])
        runs.append({"wall_s": time.perf_counter() - before, "cpu_s": time.process_time() - before_cpu, **units})
        if not answer["ok"]:
            failed.append({"route": entry["name"], **answer})
    warm[entry["name"]] = runs
print(MARK + json.dumps({"warm": warm, "failed": failed}), flush=True)
