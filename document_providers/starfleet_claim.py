"""A claim filed from a Starfleet account (the seed journey's last step)."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class StarfleetClaim(DocumentProvider):
    """A claim filed from a Starfleet account: allowance, relocation, holodeck time."""

    name = "starfleet_claim"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "account_id": _.ref("starfleet_account"),
            "claim_type": _.weighted(
                {"uniform_allowance": 0.4, "relocation": 0.35, "holodeck_hours": 0.25}
            ),
            "amount_credits": _.decimal(10, 5000),
            "status": _.weighted({"SUBMITTED": 0.6, "APPROVED": 0.3, "REJECTED": 0.1}),
            "submitted_at": _.timestamp(days=(0, 90)),
            "justification": _("text.sentence"),
        }
