"""What AWS adds to a cold path beyond the measured process: the model's parameters and its arithmetic.

The figures live in ``aws.toml``, each with what it is, its source and its date; this
module only reads them and adds them up, so that a figure is changed in one place.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARAMETERS = Path(__file__).with_name("aws.toml")
REQUIRED = ("what", "source", "published", "read")


@dataclass(frozen=True)
class Aws:
    """The parameters, by name (``aws.toml``'s tables)."""

    table: dict[str, dict[str, Any]]

    def value(self, name: str, key: str) -> float:
        """One number of one parameter."""
        return float(self.table[name][key])

    @property
    def environment_ms(self) -> float:
        """A new execution environment before Lambda's Init phase."""
        return self.value("environment_creation", "ms")

    @property
    def runtime_init_ms(self) -> float:
        """The runtime's own start inside the Init phase, before app.py."""
        return self.value("runtime_init", "ms")

    @property
    def hop_ms(self) -> float:
        """API Gateway's own latency per call (an authorizer's invocation is one more)."""
        return self.value("api_gateway", "ms_per_hop")

    @property
    def tls_ms(self) -> float:
        """A new HTTPS connection's handshakes before its first request."""
        return self.value("tls", "round_trips") * self.value("tls", "rtt_ms")

    @property
    def reference_ms(self) -> float:
        """The reference workload's time on Lambda's vCPU."""
        return self.value("reference_speed", "ms")

    def package_ms(self, package_mb: float) -> float:
        """Loading a deployment package of ``package_mb`` (zipped)."""
        return package_mb * self.value("package_load", "ms_per_mb")

    def platform_ms(self, package_mb: float, interpreter_ms: float = 0.0) -> float:
        """What a cold start costs before the process the bench measures runs app.py.

        ``interpreter_ms``: starting Python, which both the published runtime start and the
        bench's measured process contain; counted once, in the process.
        """
        runtime = max(0.0, self.runtime_init_ms - interpreter_ms)
        return self.environment_ms + runtime + self.package_ms(package_mb)

    def provisioned_usd_per_month(self, memory_mb: int, environments: int = 1) -> float:
        """Keeping ``environments`` of a function at ``memory_mb`` ready for a 30-day month."""
        return environments * memory_mb / 1024 * 30 * 24 * 3600 * self.value("provisioned_concurrency", "usd_per_gb_s")


def load(path: Path = PARAMETERS) -> Aws:
    """The parameters; ``ValueError`` naming one without a value, a source or a date."""
    table = tomllib.loads(path.read_text())
    for name, parameter in table.items():
        missing = [key for key in REQUIRED if not str(parameter.get(key, "")).strip()]
        numbers = [key for key, value in parameter.items() if isinstance(value, int | float)]
        if missing or not numbers:
            raise ValueError(f"{path.name}: [{name}] lacks {', '.join(missing) or 'a number'}")
    return Aws(table)


def normalised(measured_ms: float, host_ms: float, reference_ms: float) -> float:
    """A figure measured on a host that runs the reference workload in ``host_ms``, at the reference's speed."""
    return measured_ms * reference_ms / host_ms


def margin_ms(budget_ms: float, lookup_started: float, answered: float | None) -> float:
    """What is left of the location's budget (from its lookup's start) when the location answered.

    ``lookup_started`` and ``answered`` are on one clock, in seconds; no answer leaves
    minus infinity (the read showed ``unavailable``).
    """
    if answered is None:
        return float("-inf")
    return budget_ms - (answered - lookup_started) * 1000
