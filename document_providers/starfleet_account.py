"""A Starfleet recruitment account: the seed README's simple example provider."""

from typing import Any

from mimesis.random import Random

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory
from datagen.types import Document


class StarfleetAccount(DocumentProvider):
    """A Starfleet recruitment account (the seed README's simple example)."""

    name = "starfleet_account"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            # Applicants are 18 to 70 years old on the reference date (made a date by finalize).
            "stardate_of_birth": _.timestamp(days=(18 * 365.25, 70 * 365.25)),
            "subspace_address": _("person.email"),
            "communicator": _("person.telephone", mask="07#########"),
            "surname": _("person.last_name"),
            "forename": _("person.first_name"),
            "title": _("person.title"),
            "auth": {"logins": []},
            "federation_citizen_id": _("person.identifier", mask="@@###@@@#@###@"),
        }

    def finalize(self, document: Document, random: Random) -> None:
        # The seed README writes the birth date as an ISO date ("2001-04-17").
        document["stardate_of_birth"] = document["stardate_of_birth"].date().isoformat()
