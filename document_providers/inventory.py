"""How much of one resource type a resource provider has, and how it may be allocated."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class Inventory(DocumentProvider):
    """One resource type's inventory on one resource provider."""

    name = "inventory"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "provider_id": _.ref("resource_provider"),
            "resource_type_id": _.ref("resource_type"),
            "total": _.choice([16, 32, 64, 128]),
            "reserved": _.choice([0, 0, 1, 2]),
            "min_unit": 1,
            "max_unit": _.choice([16, 32, 64, 128]),
            "step_size": 1,
            "allocation_ratio": _.choice([1.0, 1.5, 4.0, 16.0]),
            "updated_at": _.timestamp(days=(0.01, 30), after=("provider_id", "resource_type_id")),
        }
