"""A data pipeline of an org: an origin, processors and destinations."""

from typing import Any

from mimesis.random import Random

from datagen.documents import DocumentProvider
from datagen.draws import between, pick, some
from datagen.schema import FieldFactory


def catalog(kind: str, *stages: tuple[str, str]) -> list[tuple[str, str, str, str]]:
    """(label, stage library, instance name prefix, type) of common stages of a type."""
    return [(label, library, label.replace(" ", ""), kind) for label, library in stages]


ORIGINS = catalog(
    "ORIGIN",
    ("Kafka Consumer", "kafka"),
    ("JDBC Multitable Consumer", "jdbc"),
    ("Amazon S3", "aws"),
    ("Directory", "basic"),
    ("HTTP Client", "basic"),
)
PROCESSORS = catalog(
    "PROCESSOR",
    ("Expression Evaluator", "basic"),
    ("Field Renamer", "basic"),
    ("Stream Selector", "basic"),
    ("JavaScript Evaluator", "javascript"),
    ("Field Type Converter", "basic"),
    ("Jython Evaluator", "jython"),
)
DESTINATIONS = catalog(
    "DESTINATION",
    ("Kafka Producer", "kafka"),
    ("JDBC Producer", "jdbc"),
    ("Amazon S3", "aws"),
    ("Snowflake", "snowflake"),
    ("Elasticsearch", "elasticsearch"),
    ("Google BigQuery", "google-cloud"),
    ("Trash", "basic"),
)
TAGS = ["prod", "staging", "etl", "cdc", "streaming", "batch", "finance", "marketing", "pii"]


NUMBERED = [f"_{number:02d}" for number in range(100)]  # "_01": formatting costs more than a stage


def stage(choice: tuple[str, str, str, str], number: int) -> dict[str, Any]:
    label, library, prefix, kind = choice
    return {
        "instance_name": prefix + NUMBERED[number],
        "label": label,
        "type": kind,
        "library": library,
    }


def stages(random: Random) -> list[dict[str, Any]]:
    """An origin, 0-5 processors and 1-2 destinations, numbered in order."""
    middle = [PROCESSORS] * between(random, 0, 5)
    ends = [DESTINATIONS] * between(random, 1, 2)
    return [stage(pick(random, kind), n) for n, kind in enumerate([ORIGINS, *middle, *ends], 1)]


def pipeline_name(stages: list[dict[str, Any]], number: int) -> str:
    """``Kafka Consumer to Snowflake 12``: its origin and first destination, as production names."""
    destination = next(s["label"] for s in stages if s["type"] == "DESTINATION")
    return f"{stages[0]['label']} to {destination} {number}"


class Pipeline(DocumentProvider):
    """A data pipeline of an org, created by a user, with its stages."""

    name = "pipeline"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "org_id": _.ref("org"),
            "created_by": _.ref("user"),
            "name": _.derive(pipeline_name, "stages", _.integer(1, 999)),
            "description": _.nullable(_("text.sentence"), 0.4),
            "version": _.integer(1, 60),
            "draft": _.weighted({False: 0.85, True: 0.15}),
            "execution_mode": _.weighted({"STANDALONE": 0.8, "CLUSTER_BATCH": 0.1, "EDGE": 0.1}),
            "stages": _.call(stages),
            "tags": _.call(lambda random: some(random, TAGS, 0, 3)),
            "created_at": _.timestamp(days=(60, 1500), after=("org_id", "created_by")),
            "last_modified_at": _.timestamp(days=(0.01, 60), after="created_at"),
        }
