"""A Starfleet recruitment account: the seed README's simple example provider."""

from typing import Any

from mimesis.random import Random

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory
from datagen.types import Document

CITIZEN_MASK = "@@###@@@#@###@"  # @ a capital letter, # a digit
CITIZEN_IDS = 26**8 * 10**6  # as many as the mask can write


def citizen_id(serial: int) -> str:
    """The mask written with ``serial``'s digits: a distinct identifier per account."""
    characters = []
    for kind in reversed(CITIZEN_MASK):
        serial, digit = divmod(serial, 26 if kind == "@" else 10)
        characters.append(chr(65 + digit) if kind == "@" else str(digit))
    return "".join(reversed(characters))


class StarfleetAccount(DocumentProvider):
    """A Starfleet recruitment account (the seed README's simple example)."""

    name = "starfleet_account"
    key = "id"
    unique = ("subspace_address", "federation_citizen_id")

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            # Applicants are 18 to 70 years old on the reference date (made a date by finalize).
            "stardate_of_birth": _.timestamp(days=(18 * 365.25, 70 * 365.25)),
            "subspace_address": _.unique(_("person.email")),
            "communicator": _("person.telephone", mask="07#########"),
            "surname": _("person.last_name"),
            "forename": _("person.first_name"),
            "title": _("person.title"),
            "auth": {"logins": []},
            "federation_citizen_id": _.derive(citizen_id, _.serial(CITIZEN_IDS)),
        }

    def finalize(self, document: Document, random: Random) -> None:
        # The seed README writes the birth date as an ISO date ("2001-04-17").
        document["stardate_of_birth"] = document["stardate_of_birth"].date().isoformat()
