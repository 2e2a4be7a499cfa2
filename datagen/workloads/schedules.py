"""A workload writer's schedule read from its file: ``batch:`` runs or a ``stream:``.

:class:`ScheduleReader` is the part of the workload loader
(:mod:`datagen.workloads.loader`) that reads durations, batches and streams,
naming the file, line and key of any bad value.
"""

from __future__ import annotations

from typing import Any

from datagen.scenarios.distributions import Distribution, check, from_mapping
from datagen.scenarios.loader import Marked
from datagen.scenarios.model import Where
from datagen.workloads.model import Batch, Stream
from datagen.workloads.syntax import parse_duration, parse_rate


class ScheduleReader:
    """Reads the schedules of the workload file ``shown``."""

    shown: str

    def at(self, node: Marked, key: Any, dotted: str) -> Where:
        return Where(self.shown, node.lines.get(key, node.line), dotted)

    def duration(self, node: Marked, key: str, dotted: str) -> float:
        seconds = parse_duration(node[key])
        where = self.at(node, key, dotted)
        if seconds is None:
            raise where.error(f"{node[key]!r} is not a duration such as 30s, 2m, 1h30m")
        if seconds < 0:
            raise where.error("a duration must not be negative")
        return seconds

    def batch(self, spec: Marked, where: Where) -> Batch:
        node = spec["batch"]
        dotted = f"{where.key}.batch"
        every = None
        if "every" in node:
            every = self.duration(node, "every", f"{dotted}.every")
            if every <= 0:
                raise self.at(node, "every", f"{dotted}.every").error("every must be positive")
        rows = node["rows"]
        if isinstance(rows, int):
            distribution = Distribution("fixed", {"value": rows})
        else:
            distribution = from_mapping(rows)
            problem = check(distribution.kind, distribution.params)
            low, high = rows.get("min"), rows.get("max")
            if problem is None and low is not None and high is not None and low > high:
                problem = "min must not be above max"
            if problem:
                raise self.at(node, "rows", f"{dotted}.rows").error(problem)
        spread = self.duration(node, "spread", f"{dotted}.spread") if "spread" in node else 0.0
        per_row = node.get("transaction", "run") == "row"
        if spread and not per_row:
            raise self.at(node, "spread", f"{dotted}.spread").error(
                "rows spread over time need 'transaction: row' (a run's one transaction "
                "is written at once)"
            )
        offset = self.duration(node, "offset", f"{dotted}.offset") if "offset" in node else 0.0
        return Batch(every, distribution, spread, per_row, self.at(spec, "batch", dotted), offset)

    def stream(self, spec: Marked, where: Where) -> Stream:
        node = spec["stream"]
        dotted = f"{where.key}.stream"
        rate = parse_rate(node["rate"])
        rate_where = self.at(node, "rate", f"{dotted}.rate")
        if rate is None:
            raise rate_where.error(f"{node['rate']!r} is not a rate such as 50/s, 4000/m, 200/h")
        if not rate > 0 or rate == float("inf"):
            raise rate_where.error(f"the rate must be positive, got {node['rate']!r}")
        poisson = node.get("arrivals", "poisson") == "poisson"
        return Stream(rate, poisson, int(node.get("rows", 1)), self.at(spec, "stream", dotted))
