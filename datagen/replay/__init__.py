"""Replay: perform journeys' steps against a target on the journeys' own clock.

source (journey zips) → schedule (each step at its journey's start + offset,
scaled by the speed) → engine (scheduler + bounded writer threads, retries)
→ target (database, folder, blob container, HTTP endpoint) → report.
"""

from datagen.replay.api import replay

__all__ = ["replay"]
