"""A kind of resource a provider has an inventory of (runm.cpu.shared, runm.memory, …)."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory

CODES = {
    "runm.cpu.shared": "cores",
    "runm.cpu.dedicated": "cores",
    "runm.memory": "bytes",
    "runm.block_storage": "bytes",
    "runm.gpu": "devices",
}


class ResourceType(DocumentProvider):
    """A kind of resource, by its code, with its unit."""

    name = "resource_type"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "code": _.choice(list(CODES)),
            "unit": _.choice(sorted(set(CODES.values()))),
            "description": _("text.sentence"),
            "created_at": _.timestamp(days=(1, 900)),
        }
