"""The stage's CloudWatch dashboard, in the merge template of the stack deployed last (tools.infra writes it).

One dashboard per stage (``<service>-service-<stage>-dashboard``, named after its stack,
as the deploy role expects), in the stack of the registry's last service: that stack's
own functions are referenced directly, the earlier stacks' functions through the names
those stacks export. A row per service for the APIs, functions, cold starts and table
calls; the rows of the metrics the code emits come from their declarations
(``declared``): ``servicekit.metrics``' for every service, each service's own
``chalicelib/metrics.py`` for that service. CloudFormation wants the body as one JSON
string; it is written here as Python. docs/operations.md explains how to read each widget.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from types import ModuleType
from typing import Any

from servicekit import metrics
from tools import registry, stages

HOME = stages.SERVICES[-1]  # the stack that holds the dashboard: deployed last, it can import the others' names
RESOURCE = "Dashboard"
PERIOD_S = 60

Row = list[Any]


def _title(service: str) -> str:
    return "".join(part.capitalize() for part in service.split("-"))


def _function_variables() -> dict[str, dict[str, Any]]:
    """``Fn::Sub`` variables naming the other stacks' functions, from their exports."""
    variables = {}
    for service in stages.SERVICES:
        if service == HOME:
            continue
        for kind in ("api", "authorizer"):
            name = f"profiles-${{Stage}}-{service}-{kind}-function"
            variables[f"{_title(service)}{_title(kind)}Function"] = {"Fn::ImportValue": {"Fn::Sub": name}}
    return variables


def _functions() -> list[tuple[str, str]]:
    """(label, ``${...}`` reference) of every function of the stage."""
    found = []
    for service in stages.SERVICES:
        if service == HOME:
            found += [(f"{service} api", "${APIHandler}"), (f"{service} authorizer", "${JwtAuth}")]
        else:
            found += [
                (f"{service} {kind}", f"${{{_title(service)}{_title(kind)}Function}}") for kind in ("api", "authorizer")
            ]
    return found


def _api(service: str) -> str:
    return f"{service}-service-${{Stage}}"


@cache
def own_metrics(service: str) -> ModuleType | None:
    """The metrics ``service`` declares as its own (its ``chalicelib/metrics.py``), None if it has none.

    Loaded by path, under a name of its own: that module imports nothing but
    ``servicekit.metrics`` (a test checks), so a tool reads a service's declarations without
    importing its code or putting its ``chalicelib`` on ``sys.path``.
    """
    path = stages.folder(service) / "chalicelib" / "metrics.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"{service}_service_metrics", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def declared() -> dict[str, tuple[metrics.Metric, tuple[str, ...]]]:
    """Every metric the code emits, by name, with the services that may emit it."""
    found: dict[str, tuple[metrics.Metric, tuple[str, ...]]] = {m.name: (m, stages.SERVICES) for m in metrics.SHARED}
    for service in stages.SERVICES:
        own = own_metrics(service)
        for metric in own.ALL if own is not None else ():
            if metric.name in found:
                raise ValueError(f"{service} declares {metric.name}, which is declared already")
            found[metric.name] = (metric, (service,))
    return found


def _own(metric: metrics.Metric, service: str, label: str | None = None, **dimensions: str) -> Row:
    """A row of a metric the code emits, by ``service``, as emitted."""
    row: Row = [metrics.NAMESPACE, metric.name, "service", service, "stage", "${Stage}"]
    for name, value in dimensions.items():
        row += [name, value]
    return [*row, {"label": label or f"{service} {metric.name}"}]


def _widget(title: str, rows: list[Row], x: int, y: int, *, stat: str = "Sum", width: int = 12) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": width,
        "height": 6,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "region": "${AWS::Region}",
            "stat": stat,
            "period": PERIOD_S,
            "metrics": rows,
        },
    }


def widgets() -> list[dict[str, Any]]:
    """The dashboard's widgets, top to bottom: traffic, failures, the location, security, the tables."""
    services = stages.SERVICES
    every_function = _functions()
    auth, profile = own_metrics("auth"), own_metrics("profile")
    cause = profile.LOCATION_CALL_FAILURES.dimensions["cause"]
    status = profile.PROFILE_READS.dimensions["location_status"]
    outcome = profile.TOKEN_FETCHES.dimensions["outcome"]
    publishers = [s for s in services if registry.service(s).publishes]
    subscribers = [s for s in services if registry.service(s).subscribes]
    return [
        {
            "type": "text",
            "x": 0,
            "y": 0,
            "width": 24,
            "height": 2,
            "properties": {
                "markdown": "## profiles ${Stage}\nHow to read this dashboard, the alarms' runbook and the Logs "
                "Insights queries by correlation id: docs/operations.md in the repository."
            },
        },
        _widget("Requests per service", [["AWS/ApiGateway", "Count", "ApiName", _api(s)] for s in services], 0, 2),
        _widget(
            "Errors per service (5XX, 4XX)",
            [["AWS/ApiGateway", m, "ApiName", _api(s)] for s in services for m in ("5XXError", "4XXError")],
            12,
            2,
        ),
        _widget(
            "p99 latency per service (ms)",
            [["AWS/ApiGateway", "Latency", "ApiName", _api(s)] for s in services],
            0,
            8,
            stat="p99",
        ),
        _widget("Cold starts (API functions)", [_own(metrics.COLD_STARTS, s) for s in services], 12, 8),
        _widget(
            "Lambda throttles and errors",
            [
                ["AWS/Lambda", m, "FunctionName", ref, {"label": f"{label} {m}"}]
                for label, ref in every_function
                for m in ("Throttles", "Errors")
            ],
            0,
            14,
            width=24,
        ),
        _widget(
            "Location degradation: profile reads by location_status",
            [_own(profile.PROFILE_READS, "profile", f"reads {s}", location_status=s) for s in status],
            0,
            20,
        ),
        _widget(
            "Location degradation: failed location calls by cause, token fetches",
            [_own(profile.LOCATION_CALL_FAILURES, "profile", c, cause=c) for c in cause]
            + [_own(profile.TOKEN_FETCHES, "profile", f"token fetch {o}", outcome=o) for o in outcome],
            12,
            20,
        ),
        _widget(
            "Token theft signals: refresh-token reuse, lockouts, failed logins",
            [
                _own(m, "auth")
                for m in (auth.REFRESH_TOKEN_REUSE, auth.AUTHORIZATION_CODE_REUSE, auth.LOCKOUTS, auth.LOGINS_FAILED)
            ],
            0,
            26,
        ),
        _widget(
            "Logins, registrations, refresh rotations, service logins",
            [
                _own(m, "auth")
                for m in (
                    auth.LOGINS_SUCCEEDED,
                    auth.REGISTRATIONS,
                    auth.REFRESH_ROTATIONS,
                    auth.CLIENT_CREDENTIALS_LOGINS,
                )
            ],
            12,
            26,
        ),
        _widget(
            "DynamoDB calls retried and failed",
            [_own(m, s) for s in services for m in (metrics.DYNAMODB_CALLS_RETRIED, metrics.DYNAMODB_CALLS_FAILED)],
            0,
            32,
            width=24,
        ),
        _widget(
            "Erasures: requested, published, completed and dead-lettered per subscriber",
            [_own(auth.ERASURES_REQUESTED, "auth")]
            + [_own(metrics.ERASURES_PUBLISHED, s) for s in publishers]
            + [_own(m, s) for s in subscribers for m in (metrics.ERASURES_COMPLETED, metrics.ERASURES_DEAD_LETTERED)],
            0,
            38,
        ),
        _widget(
            "Erasure latency per subscriber, from the 202 (ms, max)",
            [_own(metrics.ERASURE_LATENCY, s) for s in subscribers],
            12,
            38,
            stat="Maximum",
        ),
    ]


def resource() -> dict[str, Any]:
    """The ``AWS::CloudWatch::Dashboard`` resource, its body a ``Fn::Sub`` of the widgets."""
    body = json.dumps({"widgets": widgets()}, separators=(",", ":"))
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": {"Fn::Sub": stages.stack_name(HOME, "${Stage}") + "-dashboard"},
            "DashboardBody": {"Fn::Sub": [body, _function_variables()]},
        },
    }
