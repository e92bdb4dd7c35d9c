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
    first_reads: dict[str, Any],
    compared: Any,
) -> str:
    lines = ["", "import ratios: " + ", ".join(f"{c.service} {c.ratio:.2f}" for c in import_costs)]
    common = max(compared.sizes)
    lines.append(f"chosen memory, cold as the pipeline deploys it | as chalice deploy ships it at {common} MB:")
    for name, mb in chosen.items():
        goal = costs.COLD_GOAL_MS[name.split()[-1]]
        lines.append(
            f"  {name:<20} {mb:>5} MB cold {model[(name, mb)].cold_ms:5.0f} ms (goal {goal:.0f}) | "
            f"{compared.model[(name, common)].cold_ms:5.0f} ms"
        )
    for sizes, read in first_reads.items():
        lines.append(
            f"first profile read after idle, {sizes}: {read['cold_ms']:.0f} ms, location "
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
    first_reads: dict[str, dict[str, Any]],
    compared: Any,
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
    parts.append(FIRST_READ_PROSE)
    rows = [
        [
            sizes,
            f"{chosen['profile api']} MB",
            f"{read['departure_ms']:.0f}",
            f"{read['location_delay_ms']:.0f}",
            f"{read['cold_ms']:.0f}",
            ", ".join(read["statuses"]),
        ]
        for sizes, read in first_reads.items()
    ]
    parts.append(
        _table(
            [
                "location service's sizes",
                "profile api",
                "location call leaves, ms after process start",
                "cold location answers after, ms",
                "profile answers, ms",
                "location_status of each run",
            ],
            rows,
        )
    )
    parts.append(COMPARED_PROSE)
    header = ["function", *[f"{mb} MB: chalice deploy / pipeline" for mb in compared.sizes]]
    rows = []
    for f in functions:
        cells = []
        for mb in compared.sizes:
            plain, shipped = compared.model[(f.name, mb)].cold_ms, model[(f.name, mb)].cold_ms
            cells.append(f"{plain:.0f} / {shipped:.0f} (-{100 * (1 - shipped / plain):.0f} %)")
        rows.append([f"{f.name} cold", *cells])
    parts.append(_table(header, rows))
    parts.append(_decision(model, chosen, compared, first_reads))
    parts.append("\n" + ELSEWHERE.read_text())
    return "\n".join(parts).rstrip() + "\n"


def _decision(
    model: dict[tuple[str, int], Figures], chosen: dict[str, int], compared: Any, first_reads: dict[str, Any]
) -> str:
    """What was chosen and why, with this run's figures."""
    common = max(compared.sizes)
    cuts = [1 - model[(name, common)].cold_ms / compared.model[(name, common)].cold_ms for name in chosen]
    missing = [name for name, mb in chosen.items() if model[(name, mb)].cold_ms > costs.COLD_GOAL_MS[name.split()[-1]]]
    sizes, read = list(first_reads.items())[-1]
    ok = read["statuses"].count("ok")
    first_read = (
        f"with the location service at {sizes}, the first profile read after idle got the location in "
        f"{ok} of {len(read['statuses'])} runs ({read['cold_ms']:.0f} ms)"
    )
    return DECISION_PROSE.format(
        common=common,
        cut_low=100 * min(cuts),
        cut_high=100 * max(cuts),
        missing=", ".join(missing) or "none",
        first_read=first_read,
        tried=len(first_reads),
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
  with API Gateway's TOKEN event and a valid token, its keys from the `JWKS` variable
  the pipeline's stacks hand it (no call to the auth service, no SSM read).

Each process imports the service as the pipeline's deployment package holds it:
`app.py`, `chalicelib/`, `vendor/`, chalice's two files and the wheels of
`requirements.txt`, each module with the unchecked-hash bytecode `tools.bytecode` adds
after `chalice package` (wheels carry none, and Lambda's `/var/task` is read-only: without
it every cold start compiles them all); boto3 and the standard library come compiled with
the runtime. API Gateway's own latency is not in these figures.
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

The rule, for each function separately (API functions and authorizers), among the
sizes up to one vCPU (1,769 MB: a cold start runs one thread at a time, so above it the
figures differ by noise only): **the cheapest
size (warm cost per million of its main route) whose modelled cold start meets the
goal (API request ≤ 500 ms, authorizer with its first token ≤ 300 ms); among sizes
within 5 % of that price, the fastest cold start; if no size meets the goal, the
cheapest of those within 10 % of the fastest cold start. Then, if the first profile read
after everything was idle would miss the location at those sizes, the location
service's two functions (which that read waits for, one after the other) get the
cheapest larger sizes at which it gets it in every run.** The sizes are set in each
service's `.chalice/config.json` under `lambda_functions` (`api_handler`, `jwt_auth`).
"""

FIRST_READ_PROSE = """
## The first profile read after everything was idle

The profile API function cold at its chosen size, its location call answered as a cold
location service would answer it at the sizes in the first column (its authorizer, then
its API function: the sum of their modelled cold starts), the auth service warm. The
profile waits for the location at most 1 s from the start of its lookup (the contract's
"about one second"; the token fetch, with the client secret read from SSM, included).
Each row is one choice of sizes tried, cheapest first, until every run got the location.

"""

COMPARED_PROSE = """
## What the pipeline's package saves

The same model, cold ms (median), of the package as `chalice deploy` (and
`tools.admin deploy`) ships it: sources only, which every cold start compiles, and
authorizers that fetch the JWKS from the auth service (the auth service's own reads its
key ring from SSM), against the pipeline's package above: bytecode, and the JWKS handed
over in the `JWKS` variable (an unknown `kid` is still fetched).
"""

DECISION_PROSE = """
## What was chosen, and why

- **Memory**: the sizes in the table above (the rule), in each `.chalice/config.json`.
  At those sizes these functions still miss their own cold-start goal: {missing}.
  Below 1,769 MB every cold start grows in proportion to the missing CPU; above it a
  single-threaded start gains nothing.
- **Bytecode in the package** (`tools.bytecode`, a step of the pipeline's build after
  `chalice package`) and **the JWKS handed to the authorizers** (the pipeline's stacks
  set `JWKS` from an SSM parameter the key-ring commands keep): together they cut the
  modelled cold starts at {common} MB by {cut_low:.0f}-{cut_high:.0f} %. `chalice deploy`
  can do neither: stages it deploys start as the comparison shows.
- **The first profile read after everything was idle**: {first_read}, after {tried}
  choice(s) of the location service's sizes. The contract fixes the budget ("about one
  second"), so memory is the lever here; a longer budget would also make every read
  wait that long while the location service is down.
- **Once-per-process set-up, in the cheapest way**: boto3's clients, the secrets and the
  HTTP pool are made on first use only, and all of a process's AWS clients come from one
  boto3 session (`servicekit.aws`), which halves what making the SSM and DynamoDB
  clients costs a cold start (about 210 to 110 ms of CPU). The profile read makes its
  table client before its location lookup starts, so the location's budget is spent
  on the location service's answer, not on this process's set-up.
- **SnapStart** (Python 3.12 and later; this runtime is 3.13) would restore a snapshot
  taken after the import, removing the import cost; the clients made on first use would
  still be made after the restore unless created in a before-snapshot hook, and it is
  billed per cached snapshot and per restore. Not measurable locally; the next lever to
  try on AWS if the first read after idle matters more than its price.
- **Provisioned concurrency** of one for the location service's two functions would
  remove their cold starts from that first read entirely, for about $19 a month each at
  1,769 MB (us-east-1, $0.0000041667 per GB-s provisioned, https://aws.amazon.com/lambda/pricing/,
  read 2026-12-01): not chosen for a reference
  system whose traffic is unknown.
"""
