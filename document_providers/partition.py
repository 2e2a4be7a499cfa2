"""A partition of a resource deployment (runm-resource): the unit queries are split by."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class Partition(DocumentProvider):
    """A partition of a resource deployment (a region or a cell)."""

    name = "partition"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "name": _.call(lambda random: f"part{random.randint(0, 999)}"),
            "uuid": _.uuid(),
            "created_at": _.timestamp(days=(200, 1500)),
        }
