"""A data-collector engine registered with an org, reporting heartbeats and stats."""

from typing import Any

from mimesis.random import Random

from datagen.documents import DocumentProvider
from datagen.draws import some
from datagen.schema import FieldFactory

PORTS = [18630, 18631, 19630]  # hosts are numbered on 18630 first, then the others
HOSTS = 256 * 256 * 256  # 10.0.0.0/8
LABELS = ["all", "prod", "staging", "dev", "us-east-1", "eu-west-1", "kafka", "jdbc", "cdc"]


def engine_url(serial: int) -> str:
    """``http://10.x.y.z:18630``: a distinct address and port for each engine's serial."""
    rounds, host = divmod(serial, HOSTS)
    port = PORTS[rounds] if rounds < len(PORTS) else 20000 + rounds
    return f"http://10.{host >> 16}.{(host >> 8) & 255}.{host & 255}:{port}"


def some_labels(random: Random) -> list[str]:
    return some(random, LABELS, 1, 3)


class Engine(DocumentProvider):
    """A data-collector engine of an org, with its heartbeat and resource stats."""

    name = "engine"
    key = "id"
    unique = ("url",)
    created = "registered_at"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "org_id": _.ref("org"),
            "type": _.weighted({"DATA_COLLECTOR": 0.8, "TRANSFORMER": 0.15, "SNOWPARK": 0.05}),
            "url": _.derive(engine_url, _.serial(HOSTS)),
            "version": _.weighted(
                {
                    "5.11.0": 0.3,
                    "5.10.0": 0.2,
                    "5.9.1": 0.15,
                    "5.8.0": 0.1,
                    "5.7.2": 0.08,
                    "4.4.1": 0.07,
                    "3.22.3": 0.05,
                    "6.0.0": 0.05,
                }
            ),
            "labels": _.call(some_labels),
            "deployment": _.weighted({"SELF_MANAGED": 0.55, "KUBERNETES": 0.3, "EC2": 0.15}),
            "os": _.weighted({"Linux": 0.9, "Mac OS X": 0.07, "Windows": 0.03}),
            "status": _.weighted({"ACTIVE": 0.6, "INACTIVE": 0.35, "ERROR": 0.05}),
            "registered_at": _.timestamp(days=(3, 900), after="org_id"),
            "last_heartbeat": _.timestamp(days=(0.0001, 3), after="registered_at"),
            "stats": {
                "cpu": {
                    "cores": _.weighted({2: 0.15, 4: 0.35, 8: 0.3, 16: 0.15, 32: 0.05}),
                    "load_percent": _.decimal(0.5, 99.5),
                },
                "memory": {
                    "max_heap_mb": _.weighted({1024: 0.2, 2048: 0.3, 4096: 0.3, 8192: 0.2}),
                    "used_percent": _.decimal(5, 95),
                },
                "running_pipelines": _.integer(0, 40),
                "uptime_seconds": _.integer(60, 90 * 86400),
            },
        }
