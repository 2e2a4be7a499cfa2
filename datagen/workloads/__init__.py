"""Workloads: concurrent batch and stream writers against a database, measured.

A workload (YAML, ``workload.schema.json``) names tables, key pools and
writers. ``load()`` plans each writer's schedule (a pure function of the
workload, the seed and the options), runs every writer in its own process
with its own connections on the workload's clock, measures latency from
each transaction's intended time (HDR histograms), then checks that the
database holds exactly the merge of every write (nothing lost).

loader → schedule (values) → writer processes (sql, database) → metrics
→ check → report.
"""

from datagen.workloads.planning import describe_plan, plan_load
from datagen.workloads.run import load

__all__ = ["describe_plan", "load", "plan_load"]
