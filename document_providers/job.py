"""A job of an org: a pipeline version bound to an engine, scheduled or run by hand."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory

CADENCES = {  # a schedule (cron) and what a job's name calls it
    "0 * * * *": "hourly",
    "*/15 * * * *": "every 15 min",
    "*/5 * * * *": "every 5 min",
    "0 2 * * *": "daily",
    "30 6 * * 1-5": "weekdays",
    "0 0 * * 0": "weekly",
}
CRONS = list(CADENCES)
VERBS = ["Ingest", "Sync", "Replicate", "Load", "Archive", "Backfill", "Mask"]
DATASETS = ["orders", "customers", "events", "invoices", "clicks", "inventory", "payments"]


def job_name(verb: str, dataset: str, schedule: str | None, streaming: bool) -> str:
    """``Sync orders (hourly)``: the dataset it reads and its schedule, as production names."""
    cadence = CADENCES[schedule] if schedule else ("cdc" if streaming else "stream")
    return f"{verb} {dataset} ({cadence})"


class Job(DocumentProvider):
    """A job running a pipeline on an engine (production: mostly inactive)."""

    name = "job"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "org_id": _.ref("org"),
            "pipeline_id": _.ref("pipeline"),
            "engine_id": _.ref("engine"),
            "name": _.derive(
                job_name,
                _.choice(VERBS),
                "runtime_parameters.source_table",
                "schedule",
                _.weighted({True: 0.3, False: 0.7}),
            ),
            "status": _.weighted({"INACTIVE": 0.7, "ACTIVE": 0.2, "ERROR": 0.1}),
            "execution_engine_label": _.choice(["all", "prod", "staging", "dev"]),
            "schedule": _.nullable(_.choice(CRONS), 0.75),
            "stats_refresh_interval_ms": _.choice([60000, 60000, 120000, 300000]),
            "number_of_instances": _.weighted({1: 0.9, 2: 0.07, 3: 0.03}),
            "runtime_parameters": {
                "batch_size": _.choice([100, 500, 1000, 5000]),
                "max_retries": _.integer(0, 10),
                "log_level": _.weighted({"INFO": 0.8, "DEBUG": 0.1, "WARN": 0.07, "ERROR": 0.03}),
                "source_table": _.choice(DATASETS),
                "target_schema": _.choice(["public", "raw", "staging", "analytics"]),
            },
            "enable_failover": _.weighted({False: 0.75, True: 0.25}),  # a minority fails over
            "created_at": _.timestamp(
                days=(30, 1500), after=("org_id", "pipeline_id", "engine_id")
            ),
            "last_run_at": _.nullable(_.timestamp(days=(0.01, 30), after="created_at"), 0.3),
        }
