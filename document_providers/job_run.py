"""One run of a job, with its status, times and record counts."""

from datetime import timedelta
from typing import Any

from mimesis.random import Random

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory
from datagen.types import Document


class JobRun(DocumentProvider):
    """One run of a job: status, start and finish, record metrics."""

    name = "job_run"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "job_id": _.ref("job"),
            "run_count": _.integer(1, 5000),
            "status": _.weighted(
                {
                    "FINISHED": 0.7,
                    "RUN_ERROR": 0.1,
                    "STOPPED": 0.08,
                    "RUNNING": 0.06,
                    "START_ERROR": 0.03,
                    "DISCONNECTED": 0.03,
                }
            ),
            "triggered_by": _.weighted({"SCHEDULER": 0.6, "USER": 0.3, "API": 0.1}),
            # Starts at least a day before the reference date and lasts under a day, so that
            # finished_at (set by finalize; None while RUNNING) is also before it.
            "started_at": _.timestamp(days=(1, 120)),
            "duration_seconds": _.integer(5, 80000),
            "finished_at": None,
            "error_message": None,
            "metrics": {
                "input_records": _.integer(0, 5_000_000),
                "output_records": _.integer(0, 5_000_000),
                "error_records": _.weighted({0: 0.8, 1: 0.05, 10: 0.05, 250: 0.05, 5000: 0.05}),
                "last_batch_ms": _.integer(1, 30000),
            },
        }

    def finalize(self, document: Document, random: Random) -> None:
        status = document["status"]
        if status == "RUNNING":
            document["duration_seconds"] = None
        else:
            duration = timedelta(seconds=document["duration_seconds"])
            document["finished_at"] = document["started_at"] + duration
        if status in ("RUN_ERROR", "START_ERROR"):
            document["error_message"] = random.choice(
                ["CONTAINER_0001 - Stage error", "JDBC_00 - Cannot connect", "KAFKA_29 - Timeout"]
            )
        metrics = document["metrics"]
        metrics["output_records"] = min(metrics["output_records"], metrics["input_records"])
