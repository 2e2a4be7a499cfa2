"""A user of the control plane, a member of one org."""

import re
from typing import Any

from anyascii import anyascii
from mimesis.random import Random

from datagen.documents import DocumentProvider
from datagen.draws import some
from datagen.schema import FieldFactory

ROLES = {"ORG_MEMBER": 0.6, "PIPELINE_EDITOR": 0.2, "JOB_OPERATOR": 0.12, "ADMIN": 0.08}
"""The roles a user has (journeys give these too)."""

PUBLIC_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "proton.me"]
AT_ORG = "org"  # an e-mail at the org's own domain
MAILBOXES = {
    AT_ORG: 0.85,
    "gmail.com": 0.07,
    "outlook.com": 0.05,
    "yahoo.com": 0.02,
    "proton.me": 0.01,
}
GROUPS = ["all", "admins", "developers", "operators", "data-engineers", "analysts", "on-call"]


def some_groups(random: Random) -> list[str]:
    return some(random, GROUPS, 0, 3)


def local_part(full_name: str) -> str:
    """``maria.lopez`` from "María López", in ASCII whatever the locale's script."""
    words = []
    for word in full_name.split():  # anyascii and the regex only where they change something
        word = (word if word.isascii() else anyascii(word)).lower()
        if not word.isalnum():  # (ASCII and lower-case: alphanumeric is [a-z0-9])
            word = _NOT_ALNUM.sub("", word)
        if word:
            words.append(word)
    return ".".join(words) or "user"


_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def email_of(full_name: str, code: str, org_domain: str | None, mailbox: str) -> str:
    """``maria.lopez.4f2@acme-labs.io``: distinct for every user (the row's code)."""
    domain = (org_domain or "example.com") if mailbox == AT_ORG else mailbox
    return f"{local_part(full_name)}.{code}@{domain}"


def username_of(email: str) -> str:
    return email.partition("@")[0]


class User(DocumentProvider):
    """A user of the control plane, a member of one org."""

    name = "user"
    key = "id"
    unique = ("username", "email")

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "org_id": _.ref("org"),
            "username": _.derive(username_of, "email"),
            # Most at the org's domain, some at public providers.
            "email": _.derive(
                email_of, "full_name", _.code(), "org_id.domain", _.weighted(MAILBOXES)
            ),
            "full_name": _("person.full_name"),
            "role": _.weighted(ROLES),
            "status": _.weighted({"ACTIVE": 0.85, "INVITED": 0.08, "DEACTIVATED": 0.07}),
            "created_at": _.timestamp(days=(30, 1800), after="org_id"),
            "last_login_at": _.nullable(_.timestamp(days=(0.01, 30), after="created_at"), 0.2),
            "preferences": {
                "theme": _.weighted({"light": 0.6, "dark": 0.4}),
                "language": _.weighted({"en": 0.8, "de": 0.06, "fr": 0.06, "es": 0.05, "ja": 0.03}),
                "timezone": _.choice(["UTC", "America/Los_Angeles", "Europe/Paris", "Asia/Tokyo"]),
                "email_notifications": _.weighted({True: 0.7, False: 0.3}),  # on by default
                "page_size": _.choice([25, 50, 100]),
            },
            "groups": _.call(some_groups),
        }
