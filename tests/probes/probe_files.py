"""Probe files for the tests: the shipped data and small ones written on the fly."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
RESOURCE_1K = ROOT / "scenarios" / "resource_1k_shared_compute.yaml"
LOCK = {
    "postgresql": "SELECT id FROM inventory WHERE provider_id = :candidate.id FOR UPDATE",
    "mysql": "SELECT id FROM inventory WHERE provider_id = :candidate.id FOR UPDATE",
}


def claims_probe(folder: Path, *, safe: bool, dialect: str) -> Path:
    """``data/claims.yaml`` with a lock and a check after it (safe), or without (unsafe)."""
    text = (DATA / "claims.yaml").read_text(encoding="utf-8")
    text = text.replace("scenario: tight.yaml", f"scenario: {DATA / 'tight.yaml'}")
    if safe:
        steps = f"""      - name: lock
        sql: "{LOCK[dialect]}"
      - name: recheck
        sql: >-
          SELECT cpu.id FROM inventory cpu
          JOIN resource_type t ON t.id = cpu.resource_type_id AND t.code = 'runm.cpu.shared'
          WHERE cpu.provider_id = :candidate.id
            AND (cpu.total - cpu.reserved) * cpu.allocation_ratio >= 1 + COALESCE(
              (SELECT SUM(a.used) FROM allocation a WHERE a.provider_id = cpu.provider_id
                 AND a.resource_type_id = cpu.resource_type_id), 0)
        on_empty: retry
"""
        text = text.replace("      # LOCK\n", steps)
    path = folder / f"claims_{'safe' if safe else 'unsafe'}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_probe(folder: Path, body: str, *, name: str = "probe.yaml") -> Path:
    """A probe file over the 1k resource scenario (``body``: its queries and the rest)."""
    path = folder / name
    path.write_text(f"scenario: {RESOURCE_1K}\n{body}", encoding="utf-8")
    return path
