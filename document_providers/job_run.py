"""One run of a job, with its status, times and record counts."""

from datetime import datetime, timedelta
from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory

STATUSES = {
    "FINISHED": 0.7,
    "RUN_ERROR": 0.1,
    "STOPPED": 0.08,
    "RUNNING": 0.06,
    "START_ERROR": 0.03,
    "DISCONNECTED": 0.03,
}
ERRORS = ["CONTAINER_0001 - Stage error", "JDBC_00 - Cannot connect", "KAFKA_29 - Timeout"]
RUNNING = {"status": "RUNNING"}
NO_DURATION = {"status": ["RUNNING", "START_ERROR"]}  # still running, or never started


def finished_at(status: str, started: datetime, duration: int | None) -> datetime | None:
    """When the run ended: not yet while RUNNING; at once on START_ERROR."""
    if status == "RUNNING":
        return None
    return started + timedelta(seconds=duration or 0)


def output_records(input_records: int, drawn: int) -> int:
    return min(input_records, drawn)


class JobRun(DocumentProvider):
    """One run of a job: status, start and finish, record metrics."""

    name = "job_run"
    key = "id"
    created = "started_at"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "job_id": _.ref("job"),
            "run_count": _.integer(1, 5000),
            "status": _.weighted(STATUSES),
            "triggered_by": _.weighted({"SCHEDULER": 0.6, "USER": 0.3, "API": 0.1}),
            # After its job was created. A run still RUNNING started in the last six
            # hours; the others at least a day before the reference date, and they last
            # under a day, so that they also finished before it.
            "started_at": _.cases(
                [(RUNNING, _.timestamp(days=(0.002, 0.25), after="job_id"))],
                default=_.timestamp(days=(1, 120), after="job_id"),
            ),
            "duration_seconds": _.cases([(NO_DURATION, None)], default=_.integer(5, 80000)),
            "finished_at": _.derive(finished_at, "status", "started_at", "duration_seconds"),
            "error_message": _.cases(
                [({"status": ["RUN_ERROR", "START_ERROR"]}, _.choice(ERRORS))], default=None
            ),
            "metrics": {
                "input_records": _.integer(0, 5_000_000),
                "output_records": _.derive(
                    output_records, "metrics.input_records", _.integer(0, 5_000_000)
                ),
                "error_records": _.weighted({0: 0.8, 1: 0.05, 10: 0.05, 250: 0.05, 5000: 0.05}),
                "last_batch_ms": _.integer(1, 30000),
            },
        }
