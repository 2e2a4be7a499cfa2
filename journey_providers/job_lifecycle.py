"""A user registers an engine, builds a pipeline, runs a job on it until it ends."""

from document_providers.engine import Engine
from document_providers.job import Job
from document_providers.job_run import JobRun
from document_providers.job_status import JobStatus
from document_providers.pipeline import Pipeline
from document_providers.user import User

from datagen.journeys import JourneyProvider
from datagen.seeding import entity_key

ORGS = 1000
"""Journeys' users belong to orgs 0..999 of 'document -p org' with the same seed."""


class JobLifecycle(JourneyProvider):
    """Engine registered, pipeline created, job created and started, reports, ends."""

    name = "job_lifecycle"

    def create_journey(self) -> None:
        seed = self.context.runtime.run_seed
        org = self.random.randrange(ORGS)
        org_id = entity_key(seed, "org", org)

        # The org was created at least 30 days before the reference date (its provider
        # says so), and the journey starts within the last 30: the user joins after it,
        # with an e-mail at the org's domain.
        user = self.document(User, id=self.user_id, org_id=org_id, status="ACTIVE")
        step = self.add_step(User, user)
        user["created_at"] = self.time_of(step)
        user["last_login_at"] = None
        local = user["email"].partition("@")[0]
        user["email"] = f"{local}@{self.document_field('org', org, 'domain')}"

        engine = self.document(Engine, org_id=org_id, status="ACTIVE")
        step = self.add_step(Engine, engine, delay=(60, 1800))
        engine["registered_at"] = engine["last_heartbeat"] = self.time_of(step)

        pipeline = self.document(Pipeline, org_id=org_id, created_by=self.user_id)
        step = self.add_step(Pipeline, pipeline, delay=(300, 7200))
        pipeline["created_at"] = pipeline["last_modified_at"] = self.time_of(step)

        ids = {"org_id": org_id, "pipeline_id": pipeline["id"], "engine_id": engine["id"]}
        job = self.document(Job, status="INACTIVE", last_run_at=None, **ids)
        created = self.add_step(Job, job, delay=(60, 900))
        job["created_at"] = self.time_of(created)
        self._run(job, engine["id"])

    def _run(self, job: dict, engine_id: str) -> None:
        """Start the job, report while it runs, and end it by weighted outcome."""
        run = self.document(
            JobRun, job_id=job["id"], status="RUNNING", triggered_by="USER", finished_at=None
        )
        started = self.add_step(JobRun, run, delay=(5, 600))
        run["started_at"] = self.time_of(started)
        run["duration_seconds"] = run["error_message"] = None

        outcome = self.weighted({"FINISHED": 0.7, "RUN_ERROR": 0.2, "STOPPED": 0.1})
        records = 0
        for _ in range(self.random.randint(1, 6)):
            records += self.random.randint(1_000, 250_000)
            status = self.document(
                JobStatus,
                job_id=job["id"],
                job_run_id=run["id"],
                engine_id=engine_id,
                status="RUNNING",
            )
            status["metrics"]["input_records"] = records
            status["metrics"]["output_records"] = records - status["metrics"]["error_records"]
            step = self.add_step(JobStatus, status, delay=(60, 60))
            status["reported_at"] = self.time_of(step)

        end = self.document(
            JobRun, id=run["id"], job_id=job["id"], status=outcome, triggered_by="USER"
        )
        ended = self.add_step(JobRun, end, delay=(1, 300))
        end["started_at"] = run["started_at"]
        end["finished_at"] = self.time_of(ended)
        end["duration_seconds"] = round(ended.offset - started.offset)
        end["metrics"]["input_records"] = records
        end["metrics"]["output_records"] = min(end["metrics"]["output_records"], records)
        if outcome != "RUN_ERROR":
            end["error_message"] = None
