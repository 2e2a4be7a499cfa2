"""A user of the control plane, a member of one org."""

from typing import Any

from mimesis.random import Random

from datagen.documents import DocumentProvider
from datagen.draws import pick, some
from datagen.schema import FieldFactory
from datagen.types import Document

DOMAINS = ["example.com", "acme.io", "corp.example.org", "data.example.net", "gmail.com"]
GROUPS = ["all", "admins", "developers", "operators", "data-engineers", "analysts", "on-call"]


def some_groups(random: Random) -> list[str]:
    return some(random, GROUPS, 0, 3)


class User(DocumentProvider):
    """A user of the control plane, a member of one org."""

    name = "user"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "org_id": _.ref("org"),
            "username": _("person.username", mask="l_d"),
            "email": None,  # first.last@domain, derived from full_name by finalize
            "full_name": _("person.full_name"),
            "role": _.weighted(
                {"ORG_MEMBER": 0.6, "PIPELINE_EDITOR": 0.2, "JOB_OPERATOR": 0.12, "ADMIN": 0.08}
            ),
            "status": _.weighted({"ACTIVE": 0.85, "INVITED": 0.08, "DEACTIVATED": 0.07}),
            "created_at": _.timestamp(days=(30, 1800)),
            "last_login_at": _.nullable(_.timestamp(days=(0.01, 30)), 0.2),
            "preferences": {
                "theme": _.weighted({"light": 0.6, "dark": 0.4}),
                "language": _.weighted({"en": 0.8, "de": 0.06, "fr": 0.06, "es": 0.05, "ja": 0.03}),
                "timezone": _.choice(["UTC", "America/Los_Angeles", "Europe/Paris", "Asia/Tokyo"]),
                "email_notifications": _.weighted({True: 0.7, False: 0.3}),  # on by default
                "page_size": _.choice([25, 50, 100]),
            },
            "groups": _.call(some_groups),
        }

    def finalize(self, document: Document, random: Random) -> None:
        first, _, last = document["full_name"].lower().replace("'", "").partition(" ")
        document["email"] = f"{first}.{last.replace(' ', '')}@{pick(random, DOMAINS)}"
