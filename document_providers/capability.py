"""A capability a resource provider may have (a CPU flag, SSD storage, a NIC speed)."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory

CODES = ["hw.cpu.x86.avx2", "hw.cpu.x86.sse42", "hw.nic.10gbe", "storage.ssd", "hw.gpu.nvidia"]


class Capability(DocumentProvider):
    """A capability of resource providers, by its code."""

    name = "capability"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "code": _.choice(CODES),
            "description": _("text.sentence"),
            "created_at": _.timestamp(days=(1, 900)),
        }
