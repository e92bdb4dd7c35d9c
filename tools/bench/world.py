"""What a function's cold path talks to, on 127.0.0.1: moto's server, and stand-ins for peers.

moto's server plays DynamoDB and SSM Parameter Store (the deployed stages' secrets).
The peers a function calls over HTTP are a small stand-in server: the auth service's
JWKS and client-credentials token, and the location service's ``GET /locations/{id}``,
which answers after ``location_delay_s`` (so the bench can put a modelled cold location
service behind a profile read).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tools import registry, stages, tables
from tools.jsonserver import HOST, JsonHandler, Server

REGION = "us-east-1"
STAGE = "dev"  # a deployed stage's configuration: secrets in SSM, not in files
# The auth API as deployed: the API every authorizer event names, and its default URL, the
# tokens' issuer (what its stack writes to the URL parameter, and what the other services'
# AUTH_URL would be; theirs point at the stand-in here, so they are told the issuer apart).
METHOD_ARN = f"arn:aws:execute-api:{REGION}:123456789012:bench/api/GET/locations/x"
ISSUER = f"https://bench.execute-api.{REGION}.amazonaws.com/api"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Moto:
    """moto's server in its own process, so that its work never shares the bench's GIL."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto's server did not start within 30 s")

    def client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session().client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - moto accepts any credentials
        )

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)


@dataclass
class Environments:
    """One function's execution environments in the all-cold world, each busy until a time (seconds)."""

    cold_ms: float  # a new environment's first answer: AWS's platform costs and the measured cold start
    warm_ms: float
    busy_until: list[float] = field(default_factory=list)

    def invoke(self, at: float) -> float:
        """When an invocation arriving ``at`` answers: in an idle environment warm, else in a new one cold.

        Lambda never queues an invocation behind an environment still busy (initialising or
        serving): it starts another, cold.
        """
        for number, until in enumerate(self.busy_until):
            if until <= at:
                self.busy_until[number] = at + self.warm_ms / 1000
                return self.busy_until[number]
        self.busy_until.append(at + self.cold_ms / 1000)
        return self.busy_until[-1]


@dataclass
class AllCold:
    """The peers after a quiet night: the auth API, the location authorizer and API cold, API Gateway between.

    Every call pays API Gateway's latency (``hop_ms``), a location read once more for its
    authorizer's invocation, and a new connection TLS's handshakes (``tls_ms``).
    """

    auth: Environments
    authorizer: Environments
    location: Environments
    hop_ms: float
    tls_ms: float
    valid_token: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: list[float] = field(default_factory=list)  # perf_counter() of each location answered to the token
    calls: list[tuple[str, float, float]] = field(default_factory=list)  # (what, arrived, answered)

    def arrive(self, at: float, new_connection: bool) -> float:
        return at + (self.tls_ms if new_connection else 0.0) / 1000 + self.hop_ms / 1000

    def token(self, at: float, new_connection: bool) -> float:
        """When ``POST /token`` arriving ``at`` answers."""
        with self.lock:
            answered = self.auth.invoke(self.arrive(at, new_connection))
            self.calls.append(("token", at, answered))
            return answered

    def health(self, at: float, new_connection: bool) -> float:
        """When the location service's ``GET /health`` (its API function, no authorizer) answers."""
        with self.lock:
            answered = self.location.invoke(self.arrive(at, new_connection))
            self.calls.append(("health", at, answered))
            return answered

    def read(self, at: float, new_connection: bool, bearer: str) -> tuple[float, bool]:
        """When a ``GET /locations/{id}`` answers, and whether its token was let through."""
        with self.lock:
            authorized = self.authorizer.invoke(self.arrive(at, new_connection))
            if bearer != self.valid_token:
                self.calls.append(("denied", at, authorized))
                return authorized, False
            answered = self.location.invoke(authorized + self.hop_ms / 1000)
            self.calls.append(("location", at, answered))
            return answered, True


class Peers:
    """The auth and location services as a function sees them, answering at once (or late)."""

    TOKEN = "bench-token"  # noqa: S105 - the stand-in's service token

    def __init__(self, jwks: dict[str, Any], location: dict[str, Any]) -> None:
        self.jwks = jwks
        self.location = location
        self.location_delay_s = 0.0
        self.all_cold: AllCold | None = None  # when set, the peers answer as after a quiet night
        self.calls: dict[str, int] = {"jwks": 0, "token": 0, "location": 0}
        self.location_arrivals: list[float] = []  # time.perf_counter() of each location request
        self._server = Server(_handler(self), name="peers")
        self.url = self._server.url
        self._server.start()

    def stop(self) -> None:
        self._server.stop()


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.perf_counter()))


def _handler(peers: Peers) -> type[JsonHandler]:
    class Handler(JsonHandler):
        served = False  # one handler serves one connection: its first request pays TLS's handshakes

        def _new_connection(self) -> bool:
            new, self.served = not self.served, True
            return new

        def do_GET(self) -> None:
            arrived, new = time.perf_counter(), self._new_connection()
            cold = peers.all_cold
            if self.path == "/.well-known/jwks.json":
                peers.calls["jwks"] += 1
                self.send_json(200, peers.jwks)
            elif self.path == "/health" and cold is not None:
                _sleep_until(cold.health(arrived, new))
                self.send_json(200, {"status": "ok", "service": "location"})
            elif self.path.startswith("/locations/"):
                peers.calls["location"] += 1
                peers.location_arrivals.append(arrived)
                if cold is not None:
                    bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    answered, allowed = cold.read(arrived, new, bearer)
                    _sleep_until(answered)
                    if not allowed:
                        self.send_json(403, {"Message": "User is not authorized to access this resource"})
                        return
                    cold.answers.append(time.perf_counter())
                else:
                    time.sleep(peers.location_delay_s)
                self.send_json(200, {**peers.location, "user_id": self.path.rsplit("/", 1)[1]})
            else:
                self.send_json(404, {"Code": "NotFoundError", "Message": self.path})

        def do_POST(self) -> None:
            arrived, new = time.perf_counter(), self._new_connection()
            self.read_body()
            peers.calls["token"] += 1
            if peers.all_cold is not None:
                _sleep_until(peers.all_cold.token(arrived, new))
            grant = {"access_token": Peers.TOKEN, "token_type": "Bearer", "expires_in": 900, "scope": "location:read"}
            self.send_json(200, grant)

    return Handler


def create_resources(moto: Moto, signing_keys: str) -> None:
    """The deployed stage's tables, the auth service's signing keys and its own URL (its issuer), in moto."""
    dynamodb = moto.client("dynamodb")
    for service in stages.SERVICES:
        tables.create(dynamodb, stages.table_name(service, STAGE), stages.folder(service) / "resources.json")
    for variable, value in (("SIGNING_KEYS", signing_keys), ("TOKEN_ISSUER", ISSUER)):
        moto.client("ssm").put_parameter(
            Name=_parameter("auth", variable), Value=value, Type="SecureString", Overwrite=True
        )


def register_client(moto: Moto, service: str, base: dict[str, str]) -> tuple[str, str]:
    """``service``'s client, registered as an operator registers it: its id and its secret.

    ``tools.admin create-client`` stores the secret hashed in the auth table and writes it
    where the service reads it (SSM, here moto's), from where the bench reads it back.
    """
    client_id = stages.stage_env(service, STAGE)["CLIENT_ID"]
    scope = registry.load().services[service].client
    if scope is None:
        raise ValueError(f"{service} has no service client (services.toml)")
    env = {k: v for k, v in base.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(_aws_env(moto))
    command = ["-m", "tools.admin", "create-client", client_id, "--scope", scope, "--stage", STAGE]
    subprocess.run([sys.executable, *command], cwd=stages.ROOT, env=env, check=True, capture_output=True, text=True)
    answer = moto.client("ssm").get_parameter(Name=_parameter(service, "CLIENT_SECRET"), WithDecryption=True)
    return client_id, answer["Parameter"]["Value"]


def _parameter(service: str, variable: str) -> str:
    """The SSM parameter the deployed stage reads ``variable`` of ``service`` from."""
    return stages.stage_env(service, STAGE)[variable].removeprefix("ssm:")


def _aws_env(moto: Moto) -> dict[str, str]:
    """AWS as a process sees it here: moto's server, with any credentials."""
    return {
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",  # moto accepts any credentials
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }


class Stage:
    """The deployed stage's environments, one per service, and a table of its own for each function process.

    Each process gets a fresh copy of its service's table as set up (the data the cold
    requests read). moto copies a whole table for every transaction, so its latency grows
    with the table, where DynamoDB's does not: on one shared table the bench's own logins
    (a new refresh-token family and an attempt counter each) slowed its later ones, past
    the deployed stage's 1 s read timeout, and botocore's retry of a transaction moto had
    applied failed its own condition. A process's table is also its own per-address
    budget of logins, so the bench's hundreds of logins from one address are never a 429.
    """

    def __init__(self, moto: Moto, environments: dict[str, dict[str, str]]) -> None:
        self._moto = moto
        self._environments = environments
        self._dynamodb = moto.client("dynamodb")  # boto3's clients may be shared by threads

    def handing(self, **extra: str) -> Stage:
        """The same stage, each environment with ``extra`` variables (the JWKS handed over)."""
        return Stage(self._moto, {s: {**env, **extra} for s, env in self._environments.items()})

    def setup_env(self, service: str) -> dict[str, str]:
        """The service's environment on the stage's own table, where the set-up writes."""
        return dict(self._environments[service])

    def env(self, service: str) -> dict[str, str]:
        """The service's environment for one process: its table a fresh copy of the set-up one."""
        env = self.setup_env(service)
        name = f"{env['TABLE_NAME']}-{uuid.uuid4().hex[:12]}"  # unique across stages sharing moto
        if not tables.create(self._dynamodb, name, stages.folder(service) / "resources.json"):
            raise RuntimeError(f"table {name} existed already: it would not be a fresh copy")
        pages = self._dynamodb.get_paginator("scan").paginate(TableName=env["TABLE_NAME"], ConsistentRead=True)
        for item in (item for page in pages for item in page["Items"]):
            self._dynamodb.put_item(TableName=name, Item=item)
        env["TABLE_NAME"] = name
        return env


def environment(service: str, moto: Moto, peers: Peers, base: dict[str, str]) -> dict[str, str]:
    """A function's environment: the deployed stage's variables, AWS served by moto."""
    env = {k: v for k, v in base.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(TOKEN_ISSUER=ISSUER)
    env.update(stages.stage_env(service, STAGE))
    env.update(_aws_env(moto))
    env.update(
        AUTH_URL=peers.url,
        LOCATION_URL=peers.url,
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def new_user_id() -> str:
    return str(uuid.uuid4())


def proxy_event(
    method: str, resource: str, path_parameters: dict[str, str], *, body: Any = None, authorizer: Any = None
) -> dict[str, Any]:
    """An API Gateway REST proxy event, as it reaches a Chalice API function."""
    path = resource
    for name, value in path_parameters.items():
        path = path.replace("{" + name + "}", value)
    headers = {"Host": "bench.execute-api.us-east-1.amazonaws.com", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    context: dict[str, Any] = {
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/api{path}",
        "stage": "api",
        "requestId": "bench",
        "identity": {"sourceIp": HOST},
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def authorizer_event(token: str) -> dict[str, Any]:
    """API Gateway's TOKEN authorizer event."""
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": METHOD_ARN,
    }
