"""docs/performance.md and the printed summary, from what the bench measured."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import aws, costs
from .imports import ImportCost
from .model import Figures, Function

# The figures other commands measured, kept by hand: copied under "Measured elsewhere".
ELSEWHERE = Path(__file__).with_name("elsewhere.md")
# The goals of the first read after a quiet night (issue 24): this much of the budget left, in every run.
MARGIN_GOAL_MS = 150.0
# The functions that read waits for, besides the profile API function itself.
PEERS = ("auth api", "location authorizer", "location api")


@dataclass(frozen=True)
class AllColdRun:
    """What the all-cold model used and measured."""

    parameters: aws.Aws
    host_ms: float  # the reference workload on this host
    interpreter_ms: float  # python -c pass here, held to one vCPU
    packages_mb: dict[str, float]
    ways: dict[str, list[dict[str, Any]]]  # "as measured, early start": each run's read
    issuer: Figures  # the auth API function with the profile service's client-credentials grant

    @property
    def factor(self) -> float:
        return self.parameters.reference_ms / self.host_ms

    def meets(self, way: str) -> bool:
        reads = self.ways[way]
        return all(r["status"] == "ok" and r["margin_ms"] >= MARGIN_GOAL_MS for r in reads)

    def min_margin(self, way: str) -> float:
        return min(r["margin_ms"] for r in self.ways[way])


def _range(values: list[float | None]) -> str:
    """``min-max`` of the values given (None: not sent), or ``none``."""
    sent = [v for v in values if v is not None]
    return f"{min(sent):.0f}-{max(sent):.0f}" if sent else "none"


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
    cold: AllColdRun,
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
    lines.append(
        f"host: reference workload {cold.host_ms:.0f} ms (Lambda's vCPU {cold.parameters.reference_ms:.0f} ms)"
    )
    for way, reads in cold.ways.items():
        verdict = "meets" if cold.meets(way) else "MISSES"
        lines.append(
            f"first read after a quiet night, {way}: {', '.join(r['status'] for r in reads)}; margin "
            f"{', '.join(f'{r["margin_ms"]:.0f}' for r in reads)} ms ({verdict} >= {MARGIN_GOAL_MS:.0f} ms)"
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
    cold: AllColdRun,
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
        normal, slowest = fig.cold_ms * cold.factor, fig.cold_range_ms[1]
        verdict = "meets" if max(slowest, slowest * cold.factor) <= goal else "**misses**"
        rows.append(
            [
                f.name,
                f"{mb} MB",
                f"{fig.cold_ms:.0f} / {normal:.0f} ms (slowest {slowest:.0f} / {slowest * cold.factor:.0f})",
                f"≤ {goal:.0f} ms: {verdict}",
                reasons[f.name],
            ]
        )
    header = ["function", "memory", "cold (model), median: as measured / normalised", "goal", "why"]
    parts.append(_table(header, rows))
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
    parts.append(_all_cold(cold, functions, model, chosen))
    parts.append(_decision(model, chosen, compared, first_reads, cold.factor))
    parts.append("\n" + ELSEWHERE.read_text())
    return "\n".join(parts).rstrip() + "\n"


def _ms_or_none(value: float) -> str:
    return "none (unavailable)" if value == float("-inf") else f"{value:.0f}"


def _all_cold(
    cold: AllColdRun, functions: list[Function], model: dict[tuple[str, int], Figures], chosen: dict[str, int]
) -> str:
    """The first read after a quiet night: AWS's parameters, the host's speed, the reads, authorizers, levers."""
    p = cold.parameters
    grant = cold.issuer
    parts = [
        ALL_COLD_PROSE.format(
            goal=MARGIN_GOAL_MS,
            grant_cold=grant.cold_ms,
            grant_range=f"{grant.cold_range_ms[0]:.0f}-{grant.cold_range_ms[1]:.0f}",
            grant_mb=chosen["auth api"],
            grant_runs=len(grant.colds_ms),
        )
    ]
    rows = []
    for name, parameter in p.table.items():
        numbers = ", ".join(f"{k} = {v:g}" for k, v in parameter.items() if isinstance(v, int | float))
        rows.append([name, numbers, parameter["what"], parameter["source"], parameter["published"]])
    parts.append(_table(["parameter (tools/bench/aws.toml)", "value", "what", "source", "published"], rows))
    platform = {s: p.platform_ms(mb, cold.interpreter_ms * cold.factor) for s, mb in cold.packages_mb.items()}
    parts.append(
        HOST_PROSE.format(
            host=cold.host_ms,
            reference=p.reference_ms,
            factor=cold.factor,
            faster="faster" if cold.factor > 1 else "slower",
            speed=min(1.0, 1 / cold.factor),
            ratio=cold.factor if cold.factor > 1 else 1 / cold.factor,
            packages=", ".join(f"{s} {mb:.1f} MB (+{platform[s]:.0f} ms)" for s, mb in cold.packages_mb.items()),
            hop=p.hop_ms,
            tls=p.tls_ms,
        )
    )
    rows = []
    for way, reads in cold.ways.items():
        rows.append(
            [
                way,
                ", ".join(r["status"] for r in reads),
                ", ".join(_ms_or_none(r["margin_ms"]) for r in reads),
                f"{'meets' if cold.meets(way) else '**misses**'}",
                f"{min(r['lookup_ms'] for r in reads):.0f}-{max(r['lookup_ms'] for r in reads):.0f}",
                _range([r["token_leaves_ms"] for r in reads]),
                f"{min(r['user_ms'] for r in reads):.0f}-{max(r['user_ms'] for r in reads):.0f}",
            ]
        )
    parts.append(
        _table(
            [
                "the profile API function",
                "location_status of each run",
                "budget left when the location answered, ms, each run",
                f"goal: ok and ≥ {MARGIN_GOAL_MS:.0f} ms in every run",
                "lookup (budget) starts, ms after the process",
                "the token request leaves, ms after the process",
                "the user waits, ms (with AWS's costs)",
            ],
            rows,
        )
    )
    parts.append(AUTHORIZERS_PROSE)
    rows = []
    goal = costs.COLD_GOAL_MS["authorizer"]
    for f in functions:
        if f.kind != "authorizer":
            continue
        mb = chosen[f.name]
        measured = model[(f.name, mb)].cold_ms
        normal = aws.normalised(measured, cold.host_ms, p.reference_ms)
        verdict = " / ".join("meets" if v <= goal else "**misses**" for v in (measured, normal))
        rows.append(
            [
                f.name,
                f"{mb} MB",
                f"{measured:.0f}",
                f"{normal:.0f}",
                f"≤ {goal:.0f}: {verdict}",
                f"{normal + platform[f.service]:.0f}",
            ]
        )
    parts.append(
        _table(
            [
                "authorizer",
                "memory",
                "cold with its first token, ms, as measured",
                "normalised to Lambda's vCPU, ms",
                "goal (as measured / normalised)",
                "with AWS's costs before app.py, ms",
            ],
            rows,
        )
    )
    parts.append(_levers(cold, model, chosen, platform))
    return "\n".join(parts)


def _levers(
    cold: AllColdRun, model: dict[tuple[str, int], Figures], chosen: dict[str, int], platform: dict[str, float]
) -> str:
    p = cold.parameters
    early, late = "normalised, early start", "normalised, no early start"
    figures = {name: cold.issuer if name == "auth api" else model[(name, chosen[name])] for name in PEERS}
    peers_cold = {
        name: aws.normalised(figures[name].cold_ms, cold.host_ms, p.reference_ms) + platform[name.split()[0]]
        for name in PEERS
    }
    provisioned = {name: p.provisioned_usd_per_month(chosen[name]) for name in (*PEERS, "profile api")}
    early_reads = cold.ways[early]
    return LEVERS_PROSE.format(
        token_leaves=_range([r["token_leaves_ms"] for r in early_reads]),
        wake_leaves=_range([r["wake_leaves_ms"] for r in early_reads]),
        early_min=_ms_or_none(cold.min_margin(early)),
        late_min=_ms_or_none(cold.min_margin(late)),
        early_measured=_ms_or_none(cold.min_margin("as measured, early start")),
        late_measured=_ms_or_none(cold.min_margin("as measured, no early start")),
        auth_cold=peers_cold["auth api"],
        authorizer_cold=peers_cold["location authorizer"],
        location_cold=peers_cold["location api"],
        runtime=p.runtime_init_ms,
        environment=p.environment_ms,
        package=p.package_ms(cold.packages_mb["location"]),
        memory=", ".join(f"{name} {chosen[name]} MB" for name in (*PEERS, "profile api")),
        provisioned=", ".join(f"{name} ${usd:.2f}" for name, usd in provisioned.items()),
        provisioned_total=sum(provisioned.values()),
        provisioned_verdict=(
            "not chosen while the early start meets the goal at no cost."
            if cold.meets(early) and cold.meets("as measured, early start")
            else f"one environment of the auth API alone (${provisioned['auth api']:.2f} a month per stage) "
            "would let the read wait for a warm token rather than a cold auth service: the lever left "
            "that meets the goal, a cost per stage for the team to decide. Not built."
        ),
    )


def _decision(
    model: dict[tuple[str, int], Figures],
    chosen: dict[str, int],
    compared: Any,
    first_reads: dict[str, Any],
    factor: float = 1.0,
) -> str:
    """What was chosen and why, with this run's figures."""
    common = max(compared.sizes)
    cuts = [1 - model[(name, common)].cold_ms / compared.model[(name, common)].cold_ms for name in chosen]
    missing = [
        name
        for name, mb in chosen.items()
        if model[(name, mb)].cold_ms * max(1.0, factor) > costs.COLD_GOAL_MS[name.split()[-1]]
    ]
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

A figure is taken only from invocations that succeeded: a 429 is fast and a timed-out,
retried write slow, and neither is the request the figure names, so any error answer (or
an authorizer's Deny) stops the bench with what the function logged. Each process gets
its own copy of its service's table as set up: moto copies a whole table for every
transaction, where DynamoDB's latency does not grow with a table, and on one shared table
the bench's own logins slowed its later ones until they timed out. Each kind of request
has run once, untimed, before any is measured: moto's server answers the first of a kind
about 100 ms late.
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
goal in every run, as measured and normalised (API request ≤ 500 ms, authorizer with its
first token ≤ 300 ms): a median that meets it by a few percent flips with noise; among sizes
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

ALL_COLD_PROSE = """
## The first profile read after a quiet night (all cold)

After a night without traffic every function on a profile read's path is cold: the
profile API function, the auth service's API function (the profile service's
client-credentials token: `POST /token`), and the location service's authorizer and API
function, one after the other. The profile API function runs for real, held to its
share as above; the three others answer as a modelled AWS would (`tools.bench.world.AllCold`):
each call pays API Gateway's latency (a location read once more, for its authorizer), a
new connection TLS's handshakes, and a function without an idle execution environment
starts a new one: AWS's costs before `app.py` (a new environment, the runtime's start,
the package's load) plus that function's cold start measured above in the same run. The
auth API's is its cold start with the request the profile service sends, the
client-credentials grant, its client registered as `tools.admin create-client` registers
it: {grant_cold:.0f} ms ({grant_range}) at {grant_mb} MB as measured, median of {grant_runs}
fresh processes (its password login's is in the tables above). An
environment still busy is never queued behind: Lambda starts another, cold. The budget
is the profile service's for the location (`READ_BUDGET_S`, the contract's "about one
second"), from the moment the read starts its lookup; **the goal: `ok` in every run with at
least {goal:.0f} ms of it left**, on the normalised figures and as measured.

AWS's costs, each a parameter of the model with its source (`tools/bench/aws.toml`):
"""

HOST_PROSE = """
**The host's speed.** A fixed reference workload (`tools/bench/speed.py`: a million
chained SHA-256 digests of 32 bytes in CPython, median of 5 fresh processes) took
**{host:.0f} ms** here; the same workload, published for a Python 3.13 function on Lambda's
x86_64 vCPU at 1,769 MB (one whole vCPU; 2,048 MB is no faster), takes **{reference:.1f} ms**
(`reference_speed` above). The reference speed is that vCPU's: a figure is normalised by
multiplying it by {factor:.2f} (this host's single thread is {ratio:.2f}x {faster} than Lambda's),
and the normalised all-cold reads hold the profile process to its share times {speed:.2f} (at
most 1: a host slower than Lambda cannot be sped up, and its figures stay as measured).
The workload weighs the interpreter's dispatch and C calls, as an import does, but not
an import's memory and cache behaviour: an approximation. Packages, zipped, and what AWS
adds before each `app.py` runs: {packages}; API Gateway {hop:.0f} ms per hop; TLS {tls:.0f} ms per new connection.
"""

AUTHORIZERS_PROSE = """
Each authorizer's cold start with its first token, at its memory: process start to its
policy, as measured and normalised; the goal (≤ 300 ms) is for the function's own start,
as in issue 11; the last column adds what AWS spends before `app.py` runs, for reference.
"""

LEVERS_PROSE = """
**The levers, by the figures** (normalised, each run's smallest margin; the location
service's path measured without any lever below):

- **Early start** (built: `profile-service/chalicelib/early.py`): during the API
  function's Init the profile service fetches its token and wakes the location service's
  two functions (`GET /health` runs its API function; a bearer that is no token runs its
  authorizer, which denies it), all side by side and while its own process still starts;
  a read then waits for the wake-up rather than start second cold environments. Smallest
  margin with it {early_min} ms; without it: {late_min} (as measured: {early_measured} ms;
  without it: {late_measured}). Without it the read waits, one after the other, for the auth API
  ({auth_cold:.0f} ms cold with AWS's costs), then the location authorizer
  ({authorizer_cold:.0f} ms) and API function ({location_cold:.0f} ms).
- **Authorizers that read nothing on their first token** (built): every authorizer
  verifies with the JWKS its stack hands it, and the auth service's own no longer reads
  its URL (its tokens' issuer) from SSM, which cost it boto3's import and a call: API
  Gateway's `methodArn` names the API it guards, and that API's default URL is what the
  URL parameter holds (`servicekit.authorizer.api_url`). The table above has their cold
  starts.
- **The client secret, read before the token request leaves**: with the early start the
  token request leaves {token_leaves} ms after the process starts, the wake-up calls
  {wake_leaves} ms (normalised): between them the profile process imports boto3 and reads
  its client secret from SSM (its first botocore client costs about as much as the import:
  botocore lists every service's data folder and parses SSM's model). The token could leave
  with the wake-ups only with a secret read without the SDK, and none is open to Init:
  AWS's documentation says its Parameters and Secrets extension answers in the Invoke
  phase only, never during Init
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-integration-lambda-extensions.html),
  so it would give the secret after the whole import, no earlier than SSM does now; a
  secret in an environment variable is readable by whoever may read the function's
  configuration, and one encrypted for the function needs KMS, which is boto3 again.
  Not built.
- **A cached token** (from an earlier process): tokens live 15 minutes, a quiet night
  longer; it would never be valid when this read needs it. Not built.
- **API Gateway's authorizer cache** (TTL 60 s here; at most 3,600 s): empty after a quiet
  night, so 0 ms for this read. Left at 60 s (a retired key stops working within it).
- **No authorizer hop for the profile service** (IAM authorization of its calls): would
  take the location authorizer's cold start off the path, but the contract says the
  profile service reads locations with its own client-credentials token: a contract change,
  not made; the auth API, not the location service, is the read's critical path (above).
- **Memory**: the rule above gives the path {memory}; the location service's two
  functions, woken early, are not on the read's critical path (the token is), and above
  1,769 MB a single-threaded start gains nothing (the tables above).
- **SnapStart** (Python 3.12+, not measurable here): a restore replaces the new
  environment ({environment:.0f} ms), the runtime's start ({runtime:.0f} ms), the package's load
  (about {package:.0f} ms) and the import. AWS publishes no restore duration for Python
  beyond "as low as sub-second" (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html),
  so the model cannot give it a figure; a thread started during Init (the early start) would
  be frozen in the snapshot and must move to an after-restore hook. Not chosen.
- **Provisioned concurrency** (one environment each, 30 days, at the chosen memory):
  {provisioned}; ${provisioned_total:.2f} a month for the whole path. It removes these cold
  starts entirely; {provisioned_verdict}
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
  choice(s) of the location service's sizes (the auth service warm; after a quiet night it
  is not: the section above). The contract fixes the budget ("about one second"); a longer
  budget would also make every read wait that long while the location service is down.
- **Once-per-process set-up, in the cheapest way**: boto3's clients, the secrets and the
  HTTP pool are made on first use only, and all of a process's AWS clients come from one
  boto3 session (`servicekit.aws`), which halves what making the SSM and DynamoDB
  clients costs a cold start (about 210 to 110 ms of CPU). The profile read makes its
  table client before its location lookup starts, so the location's budget is spent
  on the location service's answer, not on this process's set-up.
- **SnapStart, provisioned concurrency, the authorizer cache, a cached token**: weighed
  with this run's figures under "The first profile read after a quiet night" above.
"""
