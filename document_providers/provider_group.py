"""A group of resource providers (a rack, a row or a site) within a partition."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class ProviderGroup(DocumentProvider):
    """A group of resource providers (rack, row, site) within a partition."""

    name = "provider_group"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "partition_id": _.ref("partition"),
            "name": _.call(lambda random: f"rack-{random.randint(0, 9999):04d}"),
            "kind": _.weighted({"rack": 0.8, "row": 0.15, "site": 0.05}),
            "uuid": _.uuid(),
            "created_at": _.timestamp(days=(1, 900), after="partition_id"),
        }
