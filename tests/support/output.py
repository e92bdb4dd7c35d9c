"""Reading what a service wrote to stdout: its JSON log lines and its CloudWatch EMF metric lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DataPoint:
    """One value of one metric, as CloudWatch would extract it from an EMF line."""

    namespace: str
    name: str
    unit: str
    value: float
    dimensions: dict[str, str]


def _json_lines(output: str) -> Iterator[dict[str, Any]]:
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if isinstance(document, dict):
                yield document


def data_points(output: str) -> list[DataPoint]:
    """Every metric data point in ``output``, read by the rules of the embedded metric format."""
    points = []
    for document in _json_lines(output):
        if "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    values = document[metric["Name"]]
                    for value in values if isinstance(values, list) else [values]:
                        points.append(
                            DataPoint(
                                namespace=directive["Namespace"],
                                name=metric["Name"],
                                unit=metric.get("Unit", "None"),
                                value=value,
                                dimensions={name: document[name] for name in dimension_set},
                            )
                        )
    return points


def counted(output: str, name: str) -> list[dict[str, str]]:
    """The dimensions of each data point of metric ``name`` (a count of one each) in ``output``."""
    points = [point for point in data_points(output) if point.name == name]
    assert all(point.unit == "Count" and point.value == 1 for point in points), points
    return [point.dimensions for point in points]


def log_lines(output: str) -> list[dict[str, Any]]:
    """The structured log lines (Powertools' JSON) in ``output``, metrics left out."""
    return [document for document in _json_lines(output) if "_aws" not in document and "level" in document]
