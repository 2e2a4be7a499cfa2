"""An organisation (tenant) of the control plane: the root of every other entity."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class Org(DocumentProvider):
    """An organisation (tenant) of the control plane."""

    name = "org"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "name": _("finance.company"),
            "domain": _("internet.hostname"),
            "plan": _.weighted({"FREE": 0.55, "TEAM": 0.3, "ENTERPRISE": 0.15}),
            "status": _.weighted({"ACTIVE": 0.92, "SUSPENDED": 0.05, "DELETED": 0.03}),
            "country": _("address.country_code"),
            "billing_email": _("person.email"),
            "seats": _.integer(1, 500),
            "created_at": _.timestamp(days=(30, 2000)),
            "settings": {
                "sso_enabled": _("development.boolean"),
                "timezone": _.choice(
                    [
                        "UTC",
                        "America/New_York",
                        "Europe/London",
                        "Europe/Berlin",
                        "Asia/Tokyo",
                        "Asia/Kolkata",
                    ]
                ),
                "retention_days": _.choice([30, 90, 180, 365]),
            },
            "tags": _.list_of(_("text.word"), 0, 3),
        }
