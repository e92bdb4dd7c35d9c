"""docs/performance.md and the printed summary, from what the bench measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import costs
from .imports import ImportCost
from .model import Figures, Function

# The figures other commands measured, kept by hand: copied under "Measured elsewhere".
ELSEWHERE = Path(__file__).with_name("elsewhere.md")


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    return "\n".join([_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)])


def summary(
    import_costs: list[ImportCost],
    chosen: dict[str, int],
    model: dict[tuple[str, int], Figures],
    first_read: dict[str, Any],
    levers: Any,
) -> str:
    lines = ["", "import ratios: " + ", ".join(f"{c.service} {c.ratio:.2f}" for c in import_costs)]
    lines.append("chosen memory (as packaged) | with bytecode and the JWKS at deploy time:")
    for name, mb in chosen.items():
        goal = costs.COLD_GOAL_MS[name.split()[-1]]
        lever_mb = levers.chosen[name]
        lines.append(
            f"  {name:<20} {mb:>5} MB cold {model[(name, mb)].cold_ms:5.0f} ms | "
            f"{lever_mb:>5} MB cold {levers.model[(name, lever_mb)].cold_ms:5.0f} ms  (goal {goal:.0f})"
        )
    for variant, read in first_read.items():
        lines.append(
            f"first profile read after idle, {variant}: {read['cold_ms']:.0f} ms, location "
            f"{', '.join(read['statuses'])} (location call left at {read['departure_ms']:.0f} ms, "
            f"answered {read['location_delay_ms']:.0f} ms later)"
        )
    return "\n".join(lines)


def render(
    context: dict[str, Any],
    import_costs: list[ImportCost],
    functions: list[Function],
    sizes: tuple[int, ...],
    model: dict[tuple[str, int], Figures],
    chosen: dict[str, int],
    reasons: dict[str, str],
    first_read: dict[str, dict[str, Any]],
    levers: Any,
) -> str:
    parts = [PREAMBLE.format(**context)]
    parts.append(IMPORTS_PROSE)
    parts.append(
        _table(
            ["app.py", "floor, ms CPU", "app, ms CPU", "ratio (goal ≤ 1.15)"],
            [
                [f"{c.service}-service", f"{c.floor_ms:.0f}", f"{c.app_ms:.0f}", f"**{c.ratio:.2f}**"]
                for c in import_costs
            ],
        )
    )
    parts.append(MODEL_PROSE.format(**context))
    header = ["function", *[f"{mb} MB" for mb in sizes]]
    rows = []
    for f in functions:
        cells = []
        for mb in sizes:
            fig = model[(f.name, mb)]
            mark = "**" if chosen[f.name] == mb else ""
            cells.append(f"{mark}{fig.cold_ms:.0f}{mark} ({fig.cold_range_ms[0]:.0f}-{fig.cold_range_ms[1]:.0f})")
        rows.append([f"{f.name} cold: {f.events[0]['name']}", *cells])
    parts.append("Cold: process start to the first answer, ms, median (min-max); **bold**: the chosen size.\n")
    parts.append(_table(header, rows))
    rows = []
    for f in functions:
        for event in f.events:
            route = event["name"]
            rows.append([f"{f.name}: {route}", *[_ms(model[(f.name, mb)].warm_ms[route]) for mb in sizes]])
    parts.append("\nWarm: one more invocation of the same process, ms, median.\n")
    parts.append(_table(header, rows))
    parts.append(COST_PROSE.format(prices_read=costs.PRICES_READ))
    rows = []
    for f in functions:
        for event in f.events:
            route = event["name"]
            cells = []
            for mb in sizes:
                fig = model[(f.name, mb)]
                units = fig.units[route]
                price = costs.lambda_per_million(mb, fig.warm_ms[route])
                mark = "**" if chosen[f.name] == mb else ""
                cells.append(f"{mark}{price:.2f}{mark}")
            ddb = costs.dynamodb_per_million(units["read"], units["write"]) if f.kind == "api" else 0.0
            extra = costs.API_GATEWAY_PER_MILLION + ddb if f.kind == "api" else 0.0
            rows.append([f"{f.name}: {route}", *cells, f"{units['read']:g} / {units['write']:g}", f"{extra:.2f}"])
    parts.append(_table([*header, "DynamoDB RRU / WRU", "+ API GW + DynamoDB $"], rows))
    parts.append(CHOICE_PROSE)
    rows = []
    for f in functions:
        mb = chosen[f.name]
        fig = model[(f.name, mb)]
        goal = costs.COLD_GOAL_MS[f.kind]
        verdict = "meets" if fig.cold_ms <= goal else "**misses**"
        rows.append([f.name, f"{mb} MB", f"{fig.cold_ms:.0f} ms", f"≤ {goal:.0f} ms: {verdict}", reasons[f.name]])
    parts.append(_table(["function", "memory", "cold (model)", "goal", "why"], rows))
    parts.append(LEVERS_PROSE)
    header = ["function", *[f"{mb} MB" for mb in levers.sizes], "chosen by the same rule"]
    rows = []
    for f in levers.functions:
        cells = [f"{levers.model[(f.name, mb)].cold_ms:.0f}" for mb in levers.sizes]
        rows.append([f"{f.name} cold", *cells, f"{levers.chosen[f.name]} MB"])
    parts.append(_table(header, rows))
    parts.append(FIRST_READ_PROSE)
    rows = []
    for variant, read in first_read.items():
        sizes_used = chosen if variant == "as packaged" else levers.chosen
        rows.append(
            [
                variant,
                f"{sizes_used['profile api']} MB",
                f"{read['departure_ms']:.0f}",
                f"{read['location_delay_ms']:.0f}",
                f"{read['cold_ms']:.0f}",
                ", ".join(read["statuses"]),
            ]
        )
    parts.append(
        _table(
            [
                "package",
                "profile memory",
                "location call leaves, ms after process start",
                "cold location answers after, ms",
                "profile answers, ms",
                "location_status of each run",
            ],
            rows,
        )
    )
    parts.append(_decision(model, chosen, levers, first_read))
    parts.append("\n" + ELSEWHERE.read_text())
    return "\n".join(parts).rstrip() + "\n"


def _decision(
    model: dict[tuple[str, int], Figures], chosen: dict[str, int], levers: Any, first_read: dict[str, Any]
) -> str:
    """What was chosen and why, with this run's figures."""
    common = max(set(levers.sizes) & {mb for _, mb in model})
    cuts = [
        1 - levers.model[(f.name, common)].cold_ms / model[(f.name, common)].cold_ms
        for f in levers.functions
        if (f.name, common) in model
    ]
    missing = [name for name, mb in chosen.items() if model[(name, mb)].cold_ms > costs.COLD_GOAL_MS[name.split()[-1]]]

    def outcome(read: dict[str, Any]) -> str:
        return f"`ok` in {read['statuses'].count('ok')} of {len(read['statuses'])} runs, {read['cold_ms']:.0f} ms"

    return DECISION_PROSE.format(
        common=common,
        cut_low=100 * min(cuts),
        cut_high=100 * max(cuts),
        missing=", ".join(missing) or "none",
        packaged=outcome(first_read["as packaged"]),
        levered=outcome(first_read["with both levers"]),
    )


PREAMBLE = """\
# Performance

Written by `{command}` on {date}: {machine}. The bench took {took_s:.0f} s.
Everything below the line "Measured elsewhere" is prose kept by hand; everything above
it is this run's measurement. Figures on a shared, busy machine vary by tens of percent:
rerun `make bench` to check them on yours.
"""

IMPORTS_PROSE = """
## Importing `app.py`

Importing `app.py` is the whole cold start of a service's authorizer function (Chalice
deploys it from the same module) and the first part of its API function's. Its cost is
measured against a floor, the least a Chalice app that verifies JWTs imports (chalice
and PyJWT with cryptography), in alternating fresh processes, as CPU time (user +
system) with bytecode caches present for both. Every run also checks that `boto3`,
`botocore.session` and `botocore.client` are not loaded (a test does too).
"""

MODEL_PROSE = """
## Cold starts as Lambda runs them

Lambda gives a function memory/1769 of a vCPU. Each function runs in a fresh process
held to that share ({method}; 100 ms period), {runs} processes per function and size:

- **the API function**: import `app.py`, then its first request through Chalice's own
  handler (`app.app`) as an API Gateway proxy event, with the deployed stage's
  configuration (`dev`): boto3's DynamoDB client made and the first DynamoDB call, the
  signing keys read from SSM for the auth service, against moto's server on 127.0.0.1;
  the profile service's location call goes to a stand-in answering at once (its own
  token fetch included);
- **the authorizer**: import `app.py`, then `app.jwt_auth` (the handler Chalice deploys)
  with API Gateway's TOKEN event and a valid token: the key fetch from the auth
  service's JWKS included (from SSM for the auth service's own authorizer).

Each process imports the service as its deployment package holds it: `app.py`,
`chalicelib/`, `vendor/`, chalice's two files and the wheels of `requirements.txt`,
as sources only. Wheels carry no bytecode and Lambda's `/var/task` is read-only, so a
cold start compiles all of them; boto3 and the standard library come compiled with the
runtime. API Gateway's own latency is not in these figures.
"""

COST_PROSE = """
## Cost per million requests

Lambda's price (requests and GB-seconds, billed per ms) of each route's warm
invocation at each size, in dollars per million; the last columns are what every
request of the route adds whatever the memory: API Gateway (REST, $3.50 per million)
and DynamoDB on-demand for the request units the route used (counted through botocore's
event hooks: a strongly consistent read of a small item 1 RRU, a write 1 WRU,
transactions twice). Prices: us-east-1, x86, read {prices_read} from
https://aws.amazon.com/lambda/pricing/, https://aws.amazon.com/api-gateway/pricing/ and
https://aws.amazon.com/dynamodb/pricing/on-demand/ (Lambda $0.20 per million requests
and $0.0000166667 per GB-s; DynamoDB $0.125 per million RRU, $0.625 per million WRU).
Cold starts are billed too (Lambda bills the initialization code), once per new
execution environment.
"""

CHOICE_PROSE = """
## The memory each function gets

The rule, for each function separately (API functions and authorizers): **the cheapest
size (warm cost per million of its main route) whose modelled cold start meets the
goal (API request ≤ 500 ms, authorizer with its first token ≤ 300 ms); among sizes
within 5 % of that price, the fastest cold start; if no size meets the goal, the
cheapest of those within 10 % of the fastest cold start.** The sizes are set in each
service's `.chalice/config.json` under `lambda_functions` (`api_handler`, `jwt_auth`).
"""

LEVERS_PROSE = """
## Levers, measured

The same model with two changes: **bytecode in the package** (the package's modules
compiled to unchecked-hash `.pyc` before zipping, so a cold start reads instead of
compiling them) and **the JWKS handed to the authorizers at deploy time** (the `JWKS`
variable; an unknown `kid` is still fetched). Cold ms, median:
"""

FIRST_READ_PROSE = """
## The first profile read after everything was idle

The profile API function cold at its chosen size, its location call answered as a cold
location service would answer it at its chosen sizes (its authorizer, then its API
function: the sum of their modelled cold starts), the auth service warm. The profile
waits for the location at most 1 s from the start of its lookup (token fetch, with the
client secret from SSM, included).

"""

DECISION_PROSE = """
## What was chosen, and why

- **Memory**: as the package is built today, the sizes in the table above (the rule),
  in each `.chalice/config.json`. At those sizes these functions still miss their goal:
  {missing}. Below 1,769 MB every cold start grows in proportion to the missing CPU;
  above it a single-threaded start gains nothing.
- **Bytecode in the package** is the largest lever: it cuts the modelled cold starts
  at {common} MB by {cut_low:.0f}-{cut_high:.0f} % (with the JWKS lever for the
  authorizers). It needs a build step after `chalice package` (compile the unzipped
  package with `python -m compileall --invalidation-mode unchecked-hash` under the
  runtime's Python version, zip again); `chalice deploy` cannot do it. Not in the
  pipeline yet: recommended.
- **The JWKS handed over at deploy time**: the authorizers read it from the `JWKS`
  variable (`servicekit.authorizer.handed_over_jwks`) and still fetch an unknown `kid`;
  the auth service's own authorizer then needs no SSM read either. Setting the variable
  is the deployment's part (for instance from an SSM parameter the key rotation
  updates, resolved into the functions' environment): not wired yet.
- **Once-per-process set-up** already happens on first use only (boto3's clients, the
  secrets, the HTTP pool); the profile's first read still creates an SSM client for its
  client secret and a DynamoDB client, about half of its cold path.
- **SnapStart** (Python 3.12 and later only; this runtime is 3.11) would restore a
  snapshot taken after the import, removing the import and compile cost; the clients
  made on first use would still be made after the restore unless created in a
  before-snapshot hook, and it is billed per cached snapshot and per restore. Not
  measurable locally.
- **The profile's 1 s budget for the location** stays: the first profile read after
  all services were idle gets the location as packaged {packaged}; with both levers
  {levered}. A longer budget would hide a cold location service but make every failing
  read wait that much longer.
"""
