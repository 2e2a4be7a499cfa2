"""A capability of one resource provider (the link between the two)."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class ProviderCapability(DocumentProvider):
    """A capability that one resource provider has."""

    name = "provider_capability"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "provider_id": _.ref("resource_provider"),
            "capability_id": _.ref("capability"),
            "created_at": _.timestamp(days=(1, 900), after=("provider_id", "capability_id")),
        }
