"""An application to Starfleet Academy by a starfleet_account: the complex example."""

from typing import Any

from mimesis.random import Random

from datagen.documents import DocumentProvider
from datagen.schema import FieldFactory

VESSELS = [
    "USS Enterprise",
    "USS Voyager",
    "USS Defiant",
    "USS Excelsior",
    "USS Reliant",
    "USS Cerritos",
    "USS Titan",
    "USS Discovery",
    "Deep Space 9",
    "Starbase 74",
]


def registry_number(random: Random) -> str:
    return f"NCC-{random.randint(1000, 99999)}"


class StarfleetApplication(DocumentProvider):
    """An application to Starfleet Academy, referring to a starfleet_account."""

    name = "starfleet_application"
    key = "id"

    def create_schema(self, _: FieldFactory) -> dict[str, Any]:
        return {
            "id": _.key(),
            "account_id": _.ref("starfleet_account"),
            "position": _.weighted(
                {
                    "Operations Officer": 0.25,
                    "Engineering Officer": 0.2,
                    "Science Officer": 0.18,
                    "Security Officer": 0.12,
                    "Medical Officer": 0.1,
                    "Helm Officer": 0.08,
                    "Communications Officer": 0.05,
                    "Counselor": 0.02,
                }
            ),
            "species": _.weighted(
                {
                    "Human": 0.6,
                    "Vulcan": 0.1,
                    "Bajoran": 0.06,
                    "Betazoid": 0.05,
                    "Trill": 0.05,
                    "Andorian": 0.05,
                    "Tellarite": 0.04,
                    "Klingon": 0.03,
                    "Ferengi": 0.02,
                }
            ),
            "academy_scores": {
                "warp_theory": _.integer(40, 100),
                "astrophysics": _.integer(40, 100),
                "xenolinguistics": _.integer(35, 100),
                "tactical": _.integer(30, 100),
                "command_psychology": _.integer(30, 100),
                "overall_gpa": _.decimal(2.0, 4.0),
                "kobayashi_maru": _.weighted({"FAILED": 0.97, "PASSED": 0.01, "NOT_TAKEN": 0.02}),
            },
            "previous_postings": _.list_of(
                {
                    "vessel": _.choice(VESSELS),
                    "registry": _.call(registry_number),
                    "role": _.choice(["Crewman", "Cadet", "Ensign", "Lieutenant", "Specialist"]),
                    "years": _.integer(1, 8),
                    "commendations": _.list_of(_("text.word"), 0, 2),
                },
                0,
                4,
            ),
            "referee": _.nullable(_("person.full_name"), 0.3),
            "statement": _("text.sentence"),
            "status": _.weighted(
                {
                    "SUBMITTED": 0.3,
                    "UNDER_REVIEW": 0.25,
                    "INTERVIEW": 0.1,
                    "ACCEPTED": 0.12,
                    "REJECTED": 0.18,
                    "WITHDRAWN": 0.05,
                }
            ),
            "submitted_at": _.timestamp(days=(1, 365)),
        }
