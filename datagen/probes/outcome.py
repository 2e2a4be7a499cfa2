"""A probe's run as a whole: every scale measured, compared, and what was written.

``ProbeResult`` is what ``run_probe`` returns and what the reports
(:mod:`datagen.probes.report`, :mod:`datagen.probes.html`) are written from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen import __version__
from datagen.probes.compare import Comparison
from datagen.probes.model import Probe
from datagen.probes.results import ScaleResult

REPORT_VERSION = 1


@dataclass
class ProbeResult:
    """A probe's run: every scale measured (the last one partly, if interrupted)."""

    probe: Probe
    target: str
    database: str
    seed: int
    clients: int
    duration: float | None
    populate: bool
    scales: list[ScaleResult] = field(default_factory=list)
    comparison: list[Comparison] = field(default_factory=list)
    interrupted: bool = False
    interruption: KeyboardInterrupt | None = None  # what interrupted it: Ctrl-C, or SIGTERM
    written: list[Path] = field(default_factory=list)  # the reports written
    file_errors: list[str] = field(default_factory=list)  # a report that could not be

    def failures(self) -> list[str]:
        return [line for scale in self.scales for line in scale.failures()]

    def to_json(self) -> dict[str, Any]:
        return {
            "report_version": REPORT_VERSION,
            "generator_version": __version__,
            "probe": self.probe.name,
            "file": self.probe.path,
            "scenario": self.probe.scenario,
            "seed": self.seed,
            "target": self.target,
            "database": self.database,
            "clients": self.clients,
            "duration_seconds": self.duration,
            "populated": self.populate,
            "interrupted": self.interrupted,
            "ok": not self.failures() and not self.interrupted,
            "failures": self.failures(),
            "scales": [scale.to_json() for scale in self.scales],
            "comparison": [entry.to_json() for entry in self.comparison],
        }
