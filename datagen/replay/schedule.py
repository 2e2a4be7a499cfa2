"""The replay's schedule: when, in schedule seconds, each step is performed.

A journey starts at ``ramp_up * position / journeys`` (position in id order,
so staggering is deterministic) and each of its steps at that start plus
the step's offset. Steps are performed in schedule order; a step waits for
the step before it in its journey, so a journey's documents arrive in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Sequence

from datagen.replay.source import ReplayJourney
from datagen.replay.steps import ReplayStep

StepKey = tuple[str, int]  # (journey id, step index)


@dataclass(frozen=True)
class Planned:
    position: int  # in the schedule
    due: float  # schedule seconds from the replay's start
    step: ReplayStep
    after: StepKey | None  # the journey's previous step, which must be done first


@dataclass(frozen=True)
class Schedule:
    planned: tuple[Planned, ...]  # in schedule order
    total: int  # all steps of the journeys
    beyond_duration: int  # steps left out by ``duration``
    already_done: int  # steps left out because a checkpoint has them

    @property
    def span(self) -> float:
        """Schedule seconds from the first step to the last."""
        if not self.planned:
            return 0.0
        return self.planned[-1].due - self.planned[0].due


def build_schedule(
    journeys: Sequence[ReplayJourney],
    *,
    ramp_up: float = 0.0,
    duration: float | None = None,
    done: Collection[StepKey] = (),
) -> Schedule:
    """Plan the steps of ``journeys``; ``done`` ones (from a checkpoint) are left out."""
    count = len(journeys)
    planned: list[tuple[float, int, int, ReplayStep, StepKey | None]] = []
    total = beyond = skipped = 0
    for position, journey in enumerate(journeys):
        start = ramp_up * position / count if count else 0.0
        previous: StepKey | None = None
        for step in journey.steps:
            total += 1
            due = start + step.offset
            if step.key in done:
                skipped += 1
            elif duration is not None and due > duration:
                beyond += 1
            else:
                after = previous if previous is not None and previous not in done else None
                planned.append((due, position, step.index, step, after))
            previous = step.key
    planned.sort(key=lambda item: item[:3])
    return Schedule(
        tuple(Planned(n, due, step, after) for n, (due, _, _, step, after) in enumerate(planned)),
        total,
        beyond,
        skipped,
    )
