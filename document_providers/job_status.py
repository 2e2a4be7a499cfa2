"""A status report a running job sends from its engine (heartbeat with metrics)."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class JobStatus(DocumentProvider):
    """A status report of a running job: state and record counts so far."""

    name = "job_status"
    key = "id"
    created = "reported_at"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "job_id": _.ref("job"),
            "job_run_id": _.ref("job_run"),
            "engine_id": _.ref("engine"),
            "status": _.weighted({"RUNNING": 0.9, "STARTING": 0.05, "RETRY": 0.05}),
            "reported_at": _.timestamp(days=(0, 30), after=("job_id", "job_run_id", "engine_id")),
            "metrics": {
                "input_records": _.integer(0, 1_000_000),
                "output_records": _.integer(0, 1_000_000),
                "error_records": _.weighted({0: 0.9, 1: 0.05, 25: 0.05}),
                "batch_latency_ms": _.integer(1, 5000),
                "heap_used_mb": _.integer(128, 8192),
            },
        }
