"""``chalice local`` closer to API Gateway and Lambda: what `make run` runs for each service.

    cd location-service && ../.venv/bin/python ../tools/chalice_local.py local --stage local --port 8002

It is Chalice's own command line, unchanged (same routing, same authorizer emulation),
with six things changed first:

- on the local stage, what the environment sets wins over ``.chalice/config.json``'s
  variables, which are the defaults of a service run by hand: the local stack hands each
  service its addresses and secrets (moved ports, another state folder), as AWS does;

- chalice's ``ThreadedHTTPServer`` keeps socketserver's default ``request_queue_size`` of 5,
  so a sixth client connecting while the server thread is busy accepting gets its
  connection refused or reset, which API Gateway never does;
- the answers it makes itself (the authorizer's 401 and 403) carry
  ``Access-Control-Allow-Origin: *``, as the stacks' gateway responses do on API Gateway;
- chalice puts a constant ``127.0.0.1`` (``LambdaEventConverter.LOCAL_SOURCE_IP``) in every
  event's ``requestContext.identity.sourceIp``, where API Gateway puts the caller's address:
  here it is the connecting address, so the auth service's per-address limits work locally
  as deployed (a test connecting from 127.0.0.2 is another caller than one from 127.0.0.3);
- chalice runs every request the moment it arrives, a hundred at once if a hundred come, where
  each Lambda environment runs one at a time: here a service runs at most ``CONCURRENCY`` at
  once and the others wait their turn before their time budget (``servicekit.deadline``)
  starts, as callers on AWS wait for a new environment. Otherwise a burst shares the
  machine's cores a hundred ways and every request of it runs out of its budget;
- the app's event functions (``@app.on_sqs_message``, ``@app.on_dynamodb_record``) run as
  Lambda runs them, beside the API: a bounded poller thread of this process
  (``tools/lambda_events.py``) reads the service's queue or its table's stream in the local
  stack's moto and calls Chalice's own handler with an event in Lambda's shape; it stops
  with the process, so a service that is down consumes nothing and its messages wait.
Run it by path, not with ``-m``: like the ``chalice`` script it then puts nothing of this
repository on ``sys.path`` (chalice adds the project folder and its ``vendor/`` itself).
"""

import importlib.util
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from chalice import local
from chalice.app import DynamoDBEventConfig, SQSEventConfig
from chalice.cli import factory, main

# At least what a developer's load test or concurrent client opens at once; the kernel caps
# it at net.core.somaxconn (4096 on current Linux, 128 on older kernels).
LISTEN_QUEUE = 128
# Requests one service runs at once: enough to keep a developer machine's cores and the local
# DynamoDB busy (a request mostly waits on DynamoDB or another service), few enough that each
# gets its share.
CONCURRENCY = 4


_accept_connection = local.ChaliceRequestHandler.setup


def _setup_with_caller_address(handler: local.ChaliceRequestHandler) -> None:
    _accept_connection(handler)
    # Each connection has its own handler, gateway and event converter (made before setup
    # runs), so the converter's constant can be this connection's address.
    handler.local_gateway.event_converter.LOCAL_SOURCE_IP = handler.client_address[0]


def configure() -> None:
    """Give every server ``chalice local`` creates the deeper listen queue, its own errors CORS's header, and
    events the caller's address."""
    local.ThreadedHTTPServer.request_queue_size = LISTEN_QUEUE
    local.ChaliceRequestHandler.setup = _setup_with_caller_address  # type: ignore[method-assign]
    send_error_response = local.ChaliceRequestHandler._send_error_response

    def with_any_origin(handler: local.ChaliceRequestHandler, error: local.LocalGatewayException) -> None:
        # The authorizer's 401 and 403, made before any route runs, as each stack's gateway
        # responses answer them on API Gateway (tools/infra.py): readable from any origin.
        error.headers = {**error.headers, "Access-Control-Allow-Origin": "*"}
        send_error_response(handler, error)

    local.ChaliceRequestHandler._send_error_response = with_any_origin  # type: ignore[method-assign]
    turns = threading.BoundedSemaphore(CONCURRENCY)
    handle_request = local.LocalGateway.handle_request

    def one_at_a_time_per_environment(gateway: local.LocalGateway, *args: Any, **kwargs: Any) -> Any:
        with turns:
            return handle_request(gateway, *args, **kwargs)

    local.LocalGateway.handle_request = one_at_a_time_per_environment  # type: ignore[method-assign]


def _lambda_events() -> Any:
    """tools/lambda_events.py, by path (nothing of the repository is on sys.path here)."""
    spec = importlib.util.spec_from_file_location("lambda_events", Path(__file__).with_name("lambda_events.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lambda_events"] = module
    spec.loader.exec_module(module)
    return module


def _event_sources(app: Any, events: Any) -> list[Any]:
    """A source for each event function of ``app``, made when first asked (the queues come with the bootstrap)."""
    import boto3

    session = boto3.session.Session()
    sources = []
    for config in app.event_sources:
        handler = app.handler_map[config.name]
        if isinstance(config, SQSEventConfig):

            def sqs_source(config: Any = config, handler: Any = handler) -> Any:
                sqs = session.client("sqs")
                name = config.queue or config.queue_arn.rpartition(":")[2]
                url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
                return events.SqsSource(sqs, url, handler, config.name, batch_size=config.batch_size)

            sources.append(events.Deferred(config.name, sqs_source))
        elif isinstance(config, DynamoDBEventConfig):

            def stream_source(config: Any = config, handler: Any = handler) -> Any:
                table = os.environ["TABLE_NAME"]
                arn = session.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
                state = Path(os.environ.get("LOCAL_STATE_DIR", ".local"))
                checkpoint = state / f"{app.app_name}-{config.name}.checkpoint.json"
                return events.StreamSource(session.client("dynamodbstreams"), arn, handler, config.name, checkpoint)

            sources.append(events.Deferred(config.name, stream_source))
    return sources


def _with_event_sources(create: Any) -> Any:
    def create_local_server(self: Any, app: Any, config: Any, host: str, port: int) -> Any:
        server = create(self, app, config, host, port)
        # Only where the local stack carries events (its moto serves SQS): a service run by hand
        # beside a stack without them serves its API alone.
        if app.event_sources and os.environ.get("AWS_ENDPOINT_URL_SQS"):
            logging.getLogger("botocore").setLevel(logging.WARNING)  # one line per client made, at INFO
            events = _lambda_events()
            events.Poller(_event_sources(app, events)).start()
        return server

    return create_local_server


def _handed_over_wins(load: Any) -> Any:
    """Chalice's app loading, with the local stage's variables as defaults under what the environment sets.

    Chalice writes a stage's variables over the process's environment. The local stage's
    addresses and secrets in ``.chalice/config.json`` serve a service run by hand at the
    default ports (``tools.infra``); the local stack hands each service its own (moved
    ports, another state folder), as AWS hands a function its environment, and those win.
    """
    handed_over = dict(os.environ)

    def load_chalice_app(self: Any, environment_variables: Any = None, *args: Any, **kwargs: Any) -> Any:
        if environment_variables is not None and environment_variables.get("STAGE") == "local":
            environment_variables = {
                **environment_variables,
                **{name: handed_over[name] for name in environment_variables if name in handed_over},
            }
        return load(self, environment_variables, *args, **kwargs)

    return load_chalice_app


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # this folder (tools/), which the chalice script would not have either
    configure()
    factory.CLIFactory.load_chalice_app = _handed_over_wins(factory.CLIFactory.load_chalice_app)  # type: ignore[method-assign]
    factory.CLIFactory.create_local_server = _with_event_sources(factory.CLIFactory.create_local_server)  # type: ignore[method-assign]
    sys.argv[0] = "chalice"
    sys.exit(main())
