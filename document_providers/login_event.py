"""A user's sign-in to the control plane (auth audit event)."""

from typing import Any

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory


class LoginEvent(DocumentProvider):
    """A user's sign-in to the control plane, successful or not."""

    name = "login_event"
    key = "id"
    created = "at"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "user_id": _.ref("user"),
            "org_id": _.ref("org"),
            "at": _.timestamp(days=(0, 30), after=("user_id", "org_id")),
            "ip_address": _("internet.ip_v4"),
            "user_agent": _("internet.user_agent"),
            "method": _.weighted({"PASSWORD": 0.6, "SSO": 0.3, "API_TOKEN": 0.1}),
            "successful": _.weighted({True: 0.93, False: 0.07}),
        }
