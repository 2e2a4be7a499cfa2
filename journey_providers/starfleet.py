"""The seed README's journey: an applicant creates an account, logs in, files a claim."""

from document_providers.starfleet_account import StarfleetAccount
from document_providers.starfleet_claim import StarfleetClaim
from document_providers.starfleet_login import StarfleetLogin

from datagen.journeys import JourneyProvider


class StarfleetJourney(JourneyProvider):
    """An applicant creates an account, tries to log in, and files a claim."""

    name = "starfleet"

    def create_journey(self) -> None:
        # 1. The user creates an account; its id is the journey's user id.
        account = self.document(StarfleetAccount, id=self.user_id)
        self.add_step(StarfleetAccount, account)

        # 2. One to three login attempts, each a few minutes after the last.
        attempts = self.random.randint(1, 3)
        for attempt in range(attempts):
            login = self.document(
                StarfleetLogin, account_id=self.user_id, successful=attempt == attempts - 1
            )
            step = self.add_step(StarfleetLogin, login, delay=(30, 600))
            login["attempted_at"] = self.time_of(step)

        # 3. A claim, anchored to the first login attempt (step 1), hours later.
        claim = self.document(StarfleetClaim, account_id=self.user_id)
        step = self.add_step(StarfleetClaim, claim, delay=(3600, 7200), delay_from_step_index=1)
        claim["submitted_at"] = self.time_of(step)
