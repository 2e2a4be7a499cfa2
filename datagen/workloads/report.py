"""What a load did, per writer: the final table, the ``--report`` JSON, the ``--html`` page."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from typing import Any

from datagen import __version__
from datagen.workloads.check import CheckResult
from datagen.workloads.metrics import KINDS, histogram, percentiles_ms

REPORT_VERSION = 1


@dataclass
class WriterReport:
    name: str
    service: str | None
    kind: str  # "batch" | "stream"
    action: str
    connections: int
    planned_transactions: int
    planned_rows: int
    requested_rate: float | None  # transactions per real second (None at --speed max)
    data: dict[str, Any] = field(default_factory=dict)  # metrics.from_wire of its Stats

    @property
    def transactions(self) -> int:
        return int(self.data.get("transactions", 0))

    @property
    def rows(self) -> int:
        return int(self.data.get("rows", 0))

    def elapsed(self, scheduled: float | None) -> float:
        """Real seconds the writer ran: its schedule's length at least, when it has one."""
        finished = float(self.data.get("finished_at", 0.0))
        return max(finished, scheduled or 0.0)

    def achieved_rate(self, scheduled: float | None) -> float:
        elapsed = self.elapsed(scheduled)
        return self.transactions / elapsed if elapsed > 0 else 0.0

    def histogram(self, name: str) -> Any:
        return self.data.get(name) or histogram()

    def to_dict(self, scheduled: float | None) -> dict[str, Any]:
        achieved = self.achieved_rate(scheduled)
        requested = self.requested_rate
        return {
            "name": self.name,
            "service": self.service,
            "kind": self.kind,
            "action": self.action,
            "connections": self.connections,
            "transactions": {
                "planned": self.planned_transactions,
                "written": self.transactions,
                "failed": int(self.data.get("failed", 0)),
            },
            "rows": {"planned": self.planned_rows, "written": self.rows},
            "elapsed_seconds": round(self.elapsed(scheduled), 3),
            "requested_tps": None if requested is None else round(requested, 3),
            "achieved_tps": round(achieved, 3),
            "achieved_over_requested": (None if not requested else round(achieved / requested, 4)),
            "latency_ms": percentiles_ms(self.histogram("latency")),
            "service_ms": percentiles_ms(self.histogram("service")),
            "after_ms": percentiles_ms(self.histogram("after")),
            "after_failed": int(self.data.get("after_failed", 0)),
            "retries": int(self.data.get("retries", 0)),
            "failed_attempts": dict(self.data.get("attempts_failed", {})),
            "errors": dict(self.data.get("errors", {})),
            "error_messages": list(self.data.get("messages", [])),
            "timeline": [
                {
                    "second": second,
                    "transactions": int(bucket[0]),
                    "rows": int(bucket[1]),
                    "latency_mean_ms": round(bucket[2] / bucket[0] * 1000, 3),
                    "latency_max_ms": round(bucket[3] * 1000, 3),
                }
                for second, bucket in sorted(self.data.get("timeline", {}).items())
            ],
        }


@dataclass
class LoadReport:
    workload: str
    target: str
    seed: int
    speed: float | None
    duration: float  # schedule seconds
    writers: list[WriterReport]
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    interrupted: bool = False
    check: CheckResult | None = None
    written: dict[str, str] = field(default_factory=dict)  # "Report"/"HTML": the file written
    file_errors: list[str] = field(default_factory=list)  # one that could not be (a full disk)

    @property
    def scheduled(self) -> float | None:
        """Real seconds the schedule takes at this speed (None at --speed max or interrupted)."""
        if self.speed is None or self.interrupted:
            return None
        return self.duration / self.speed

    @property
    def failed(self) -> int:
        return sum(int(w.data.get("failed", 0)) for w in self.writers)

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.failed and (self.check is None or self.check.ok)

    def to_dict(self) -> dict[str, Any]:
        return {
            "report_version": REPORT_VERSION,
            "generator_version": __version__,
            "workload": self.workload,
            "target": self.target,
            "seed": self.seed,
            "speed": "max" if self.speed is None else self.speed,
            "duration_seconds": self.duration,
            "elapsed_seconds": round(self.elapsed, 3),
            "interrupted": self.interrupted,
            "writers": [w.to_dict(self.scheduled) for w in self.writers],
            "check": None if self.check is None else self.check.to_dict(),
            "notes": list(self.notes),
        }

    # Text -------------------------------------------------------------------------------

    def table(self) -> list[str]:
        """The final table: one line per writer."""
        header = (
            f"{'writer':<20} {'txns':>8} {'rows':>9} {'tx/s':>8} {'÷ req':>6} "
            f"{'latency p50/p95/p99/max ms':>29} {'service p50/p99 ms':>19} "
            f"{'retries':>7} {'deadlk':>6} {'serial':>6} {'errors':>6}"
        )
        lines = [header]
        for writer in self.writers:
            achieved = writer.achieved_rate(self.scheduled)
            requested = writer.requested_rate
            ratio = f"{achieved / requested:6.3f}" if requested else f"{'—':>6}"
            latency = percentiles_ms(writer.histogram("latency"))
            service = percentiles_ms(writer.histogram("service"))
            lat = (
                "/".join(_ms(latency[k]) for k in ("p50", "p95", "p99", "max"))
                if latency
                else ("— (speed max)" if self.speed is None and service else "—")
            )
            svc = "/".join(_ms(service[k]) for k in ("p50", "p99")) if service else "—"
            attempts = writer.data.get("attempts_failed", {})
            errors = sum(writer.data.get("errors", {}).values()) + int(
                writer.data.get("after_failed", 0)
            )
            lines.append(
                f"{writer.name[:20]:<20} {writer.transactions:>8,} {writer.rows:>9,} "
                f"{achieved:>8,.1f} {ratio} {lat:>29} {svc:>19} "
                f"{int(writer.data.get('retries', 0)):>7} {attempts.get('deadlock', 0):>6} "
                f"{attempts.get('serialization', 0):>6} {errors:>6}"
            )
        return lines

    def after_lines(self) -> list[str]:
        """The after: SQL's time per writer that has some (e.g. a view's refresh)."""
        lines = []
        for writer in self.writers:
            after = percentiles_ms(writer.histogram("after"))
            if after:
                lines.append(
                    f"{writer.name}: after: SQL of {writer.histogram('after').get_total_count()} "
                    f"runs took p50 {_ms(after['p50'])} ms, max {_ms(after['max'])} ms"
                )
        return lines

    def problems(self) -> list[str]:
        """Errors by class and their first messages, per writer."""
        lines = []
        for writer in self.writers:
            errors = {k: v for k, v in writer.data.get("errors", {}).items() if v}
            if errors or writer.data.get("after_failed"):
                parts = [f"{count} {kind}" for kind, count in errors.items()]
                if writer.data.get("after_failed"):
                    parts.append(f"{writer.data['after_failed']} after: SQL")
                lines.append(f"{writer.name}: failed: {', '.join(parts)}")
                lines.extend(f"  {m}" for m in writer.data.get("messages", [])[:3])
        return lines

    # HTML -------------------------------------------------------------------------------

    def html(self) -> str:
        """A self-contained page: the table, then throughput and latency over time."""
        rows = "\n".join(html.escape(line) for line in self.table())
        check = ""
        if self.check is not None:
            state = "nothing lost" if self.check.ok else "DIFFERENCES FOUND"
            details = "".join(
                f"<li>{html.escape(d.describe())}</li>" for d in self.check.differences
            )
            tables = ", ".join(f"{t}: {what}" for t, what in self.check.tables.items())
            check = f"<h2>Check: {state}</h2><p>{html.escape(tables)}</p><ul>{details}</ul>"
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        pace = "max" if self.speed is None else f"{self.speed:g}×"
        return (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>load {html.escape(self.workload)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}pre{font-size:12px}</style>"
            f"</head><body><h1>Load: {html.escape(self.workload)}</h1>"
            f"<p>{html.escape(self.target)}, seed {self.seed}, speed {pace}, "
            f"{self.duration:g} s of schedule in {self.elapsed:.1f} s; Data Generator "
            f"{__version__}</p><pre>{rows}</pre>{check}<ul>{notes}</ul>"
            f"{self.plots()}</body></html>\n"
        )

    def plots(self) -> str:
        # matplotlib: heavy, imported only when a report is plotted, not for the CLI's start-up
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # after use("Agg"): no display needed

        figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), dpi=96, sharex=True)
        for writer in self.writers:
            timeline = sorted(writer.data.get("timeline", {}).items())
            if not timeline:
                continue
            seconds = [int(s) for s, _ in timeline]
            top.plot(seconds, [b[0] for _, b in timeline], label=writer.name, linewidth=1)
            bottom.plot(seconds, [b[3] * 1000 for _, b in timeline], label=writer.name, linewidth=1)
        top.set_ylabel("transactions / s")
        bottom.set_ylabel("max latency per second (ms)")
        bottom.set_xlabel("seconds since the start")
        bottom.set_yscale("symlog")
        top.legend(fontsize=8)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
        plt.close(figure)
        svg = buffer.getvalue()
        return svg[svg.find("<svg") :]


def _ms(value: float) -> str:
    if value < 1:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


__all__ = ["KINDS", "LoadReport", "WriterReport"]
