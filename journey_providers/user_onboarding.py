"""A new org signs up: an admin joins, invites colleagues, who sign in over days."""

from document_providers.login_event import LoginEvent
from document_providers.org import Org
from document_providers.user import User

from datagen.journeys import JourneyProvider


def at_org(user: dict, org: dict) -> None:
    """The user's e-mail at its org's domain (its local part, with its code, kept)."""
    user["email"] = f"{user['email'].partition('@')[0]}@{org['domain']}"


class UserOnboarding(JourneyProvider):
    """An org signs up, its admin invites colleagues, they accept and sign in."""

    name = "user_onboarding"

    def create_journey(self) -> None:
        org = self.document(Org, status="ACTIVE")
        created = self.add_step(Org, org)
        org["created_at"] = self.time_of(created)

        admin = self.document(User, id=self.user_id, org_id=org["id"], role="ADMIN")
        step = self.add_step(User, admin, delay=(10, 120))
        admin["created_at"] = self.time_of(step)
        at_org(admin, org)
        self._sign_in(admin, org["id"])

        invites = self.weighted({1: 0.3, 3: 0.3, 5: 0.25, 12: 0.15})
        admin_step = step.index
        for _ in range(invites):
            member = self.document(User, org_id=org["id"], role="ORG_MEMBER")
            # Colleagues accept within three days of the admin joining, in any order
            # relative to each other: each is anchored to the admin's step.
            joined = self.add_step(
                User, member, delay=(600, 3 * 86400), delay_from_step_index=admin_step
            )
            member["created_at"] = self.time_of(joined)
            at_org(member, org)
            self._sign_in(member, org["id"])

    def _sign_in(self, user: dict, org_id: str) -> None:
        login = self.document(LoginEvent, user_id=user["id"], org_id=org_id, successful=True)
        step = self.add_step(LoginEvent, login, delay=(5, 300))
        login["at"] = self.time_of(step)
        user["last_login_at"] = login["at"]
