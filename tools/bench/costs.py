"""Prices (us-east-1, x86, on-demand) and the rule that picks each function's memory.

Sources, read 2026-12-01:
- AWS Lambda pricing, https://aws.amazon.com/lambda/pricing/ : $0.20 per million requests,
  $0.0000166667 per GB-second (first 6 billion GB-s a month), billed per 1 ms; duration
  includes the initialization code outside the handler (cold starts are billed).
- Amazon API Gateway pricing, https://aws.amazon.com/api-gateway/pricing/ (the table is
  repeated in AWS's whitepaper "Best Practices for Designing Amazon API Gateway Private
  APIs and Private Integration", Cost optimization): REST APIs $3.50 per million
  requests (first 333 million a month).
- Amazon DynamoDB on-demand pricing, https://aws.amazon.com/dynamodb/pricing/on-demand/ :
  $0.625 per million write request units, $0.125 per million read request units (since
  the cut of November 2024); a strongly consistent read of up to 4 KB is 1 RRU, a write
  of up to 1 KB 1 WRU, transactional requests twice that.
"""

from __future__ import annotations

LAMBDA_PER_MILLION = 0.20
LAMBDA_PER_GB_S = 0.0000166667
API_GATEWAY_PER_MILLION = 3.50
DYNAMODB_PER_MILLION_WRU = 0.625
DYNAMODB_PER_MILLION_RRU = 0.125
PRICES_READ = "2026-12-01"

# The goals the chosen memory must meet in the model (issue 11).
COLD_GOAL_MS = {"api": 500.0, "authorizer": 300.0}


def lambda_per_million(memory_mb: int, duration_ms: float) -> float:
    """Dollars per million invocations of ``duration_ms`` (billed per whole ms) at ``memory_mb``."""
    billed_s = -(-duration_ms // 1) / 1000
    return LAMBDA_PER_MILLION + 1_000_000 * (memory_mb / 1024) * billed_s * LAMBDA_PER_GB_S


def dynamodb_per_million(read_units: float, write_units: float) -> float:
    """Dollars per million requests that each use these request units."""
    return read_units * DYNAMODB_PER_MILLION_RRU + write_units * DYNAMODB_PER_MILLION_WRU


def choose(kind: str, by_size: dict[int, tuple[float, float]]) -> tuple[int, str]:
    """The memory for a function, and why: ``by_size`` maps MB to (cold ms, $ per million).

    The cold figure is the slowest of the runs at that size: a size meets the goal only if
    every run did (one whose median meets it by a few percent flips with the host's noise).
    The rule: the cheapest size whose modelled cold start meets the goal; of sizes within
    5 % of that price, the fastest cold start. If no size meets the goal, the cheapest of
    those within 10 % of the fastest cold start (above 1,769 MB a single-threaded start
    gains nothing but noise).
    """
    goal = COLD_GOAL_MS[kind]
    meeting = {mb: v for mb, v in by_size.items() if v[0] <= goal}
    if not meeting:
        fastest = min(v[0] for v in by_size.values())
        quick = [mb for mb, v in by_size.items() if v[0] <= fastest * 1.10]
        return min(quick, key=lambda mb: by_size[mb][1]), f"no size meets {goal:.0f} ms; near-fastest, cheapest"
    cheapest = min(v[1] for v in meeting.values())
    near = {mb: v for mb, v in meeting.items() if v[1] <= cheapest * 1.05}
    chosen = min(near, key=lambda mb: (near[mb][0], mb))
    return chosen, f"meets {goal:.0f} ms in every run; cheapest within 5 %"
