"""A provider of resources (a compute host, a storage array) in a group of a partition."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class ResourceProvider(DocumentProvider):
    """A provider of resources (compute host, storage array) in a provider group."""

    name = "resource_provider"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "partition_id": _.ref("partition"),
            "group_id": _.ref("provider_group"),
            "name": _.call(lambda random: f"compute-{random.randint(0, 99999):05d}"),
            "provider_type": _.weighted(
                {"runm.compute": 0.9, "runm.storage": 0.08, "runm.network": 0.02}
            ),
            "uuid": _.uuid(),
            "generation": _.integer(1, 40),
            "created_at": _.timestamp(days=(1, 900), after=("partition_id", "group_id")),
        }
