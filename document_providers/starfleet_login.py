"""A login attempt on a Starfleet recruitment account (the seed's journey step)."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class StarfleetLogin(DocumentProvider):
    """A login attempt on a Starfleet recruitment account."""

    name = "starfleet_login"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "account_id": _.ref("starfleet_account"),
            "attempted_at": _.timestamp(days=(0, 90)),
            "subspace_relay": _("internet.ip_v4"),
            "method": _.weighted({"password": 0.7, "retina_scan": 0.2, "voice_print": 0.1}),
            "successful": _.weighted({True: 0.85, False: 0.15}),
            "terminal": _.choice(["LCARS-7", "PADD", "Starbase kiosk", "Shuttle console"]),
        }
