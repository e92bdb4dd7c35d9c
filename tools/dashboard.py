"""The stage's CloudWatch dashboard, kept in the profile service's merge template.

    python -m tools.dashboard           # rewrite the dashboard in profile-service/resources.json
    python -m tools.dashboard --check   # exit 1 if the committed dashboard is not what this script makes

One dashboard per stage (``profile-service-<stage>-dashboard``: named after its stack,
as the deploy role expects), in the stack deployed last: the profile
stack's own functions are referenced directly, the auth and location stacks' functions
through the names those stacks export. CloudFormation wants the body as one JSON string;
it is written here as Python, from the metrics ``servicekit.metrics`` declares, and a
test compares the committed string with what this script makes. docs/operations.md
explains how to read each widget.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from tools import stages

if str(stages.ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(stages.ROOT / "shared"))

from servicekit import metrics

HOME = "profile"  # the stack that holds the dashboard: deployed last, it can import the others' names
TEMPLATE = stages.folder(HOME) / "resources.json"
RESOURCE = "Dashboard"
PERIOD_S = 60
_BODY_LINE = re.compile(r'^(\s*)"DashboardBody": .*$', re.MULTILINE)

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


def _own(metric: metrics.Metric, service: str, label: str | None = None, **dimensions: str) -> Row:
    """A row of a metric the code emits, with the dimensions it emits it with."""
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
    cause = metrics.LOCATION_CALL_FAILURES.dimensions["cause"]
    status = metrics.PROFILE_READS.dimensions["location_status"]
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
            [_own(metrics.PROFILE_READS, HOME, f"reads {s}", location_status=s) for s in status],
            0,
            20,
        ),
        _widget(
            "Location degradation: failed location calls by cause, token fetches",
            [_own(metrics.LOCATION_CALL_FAILURES, HOME, c, cause=c) for c in cause]
            + [_own(metrics.TOKEN_FETCHES, HOME, f"token fetch {o}", outcome=o) for o in ("ok", "failed")],
            12,
            20,
        ),
        _widget(
            "Token theft signals: refresh-token reuse, lockouts, failed logins",
            [_own(m, "auth") for m in (metrics.REFRESH_TOKEN_REUSE, metrics.LOCKOUTS, metrics.LOGINS_FAILED)],
            0,
            26,
        ),
        _widget(
            "Logins, registrations, refresh rotations, service logins",
            [
                _own(m, "auth")
                for m in (
                    metrics.LOGINS_SUCCEEDED,
                    metrics.REGISTRATIONS,
                    metrics.REFRESH_ROTATIONS,
                    metrics.CLIENT_CREDENTIALS_LOGINS,
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


def body_line() -> str:
    """The ``DashboardBody`` entry as it stands in the template (one line: it is one string)."""
    return '"DashboardBody": ' + json.dumps(resource()["Properties"]["DashboardBody"], ensure_ascii=False)


def rendered(template_text: str) -> str:
    """``template_text`` with its ``DashboardBody`` line replaced by the one this script makes."""
    if not _BODY_LINE.search(template_text):
        raise SystemExit(f"{TEMPLATE} has no {RESOURCE} resource with a DashboardBody line")
    return _BODY_LINE.sub(lambda match: match.group(1) + body_line(), template_text, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dashboard", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed template; write nothing")
    args = parser.parse_args(argv)
    committed = TEMPLATE.read_text()
    made = rendered(committed)
    if args.check:
        if made != committed:
            print(f"{TEMPLATE} differs from what `python -m tools.dashboard` makes", file=sys.stderr)
            return 1
        return 0
    TEMPLATE.write_text(made)
    return 0


if __name__ == "__main__":
    sys.exit(main())
