"""Probes: the service's queries and transactions, timed at each scale of a scenario.

A probe file (YAML, ``probe.schema.json``) names a scenario, setup SQL,
queries with parameters drawn from the population, transactions of steps
(a chosen row feeding the next step) and invariants. ``run_probe`` runs it:

    load + check the file  ->  plan the scenario at every scale
    for each scale:  populate (--reset)  ->  setup SQL  ->  ANALYZE, count rows
                     ->  queries (plan first, then N clients)  ->  transactions
                        (N clients, retries on conflicts)  ->  invariants
    compare the scales  ->  terminal table, --report JSON, --html charts

Modules, one concern each: ``model`` and ``loader`` (the file), ``statements``
(``:name`` parameters), ``params`` (values reproducible by seed),
``database`` (the only one that talks to the database), ``plans`` (plan
summaries per dialect), ``runner`` (clients, queries, transactions),
``scale`` (one scale), ``compare``, ``report`` (table, JSON), ``html``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

DEFAULT_TARGET = "sqlite:///output/probe.db"
"""Where ``probe`` runs without ``--to``."""

if TYPE_CHECKING:  # SQLAlchemy and numpy: imported when first used (see __getattr__)
    from datagen.probes.run import ProbeResult, run_probe

__all__ = ["DEFAULT_TARGET", "ProbeResult", "run_probe"]


def __getattr__(name: str) -> Any:
    """``run_probe`` and ``ProbeResult`` imported when first used: they bring SQLAlchemy and
    numpy, which the CLI must not import to build its help (``tests/test_startup.py``)."""
    if name in ("ProbeResult", "run_probe"):
        from datagen.probes import run  # heavy (as above): not for the CLI's start-up

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
