"""The driver: batches into a real target, in order; journey steps batched as publish does."""

from __future__ import annotations

import hashlib
from typing import Iterator

from datagen.driver import Batch, Done, Files, Prepare, Rows, Tally, step_batches, write
from datagen.formats import Chunk
from datagen.sinks.files import ChunkSink, FolderWriter
from datagen.tablespec import Column, References, TableSpec

ORG = TableSpec("org", "id", (Column("id", "text"),))
USER = TableSpec(
    "user",
    "id",
    (Column("id", "text"), Column("org_id", "text")),
    References({"org_id": ("org", "id")}),
)


class Made:
    """A producer of fixed batches, recording the workers it was asked for."""

    def __init__(self, *batches: Batch) -> None:
        self.made = batches
        self.workers: list[int | None] = []

    def batches(self, *, workers: int | None) -> Iterator[Batch]:
        self.workers.append(workers)
        yield from self.made


def test_files_counts_progress_and_tally_reach_the_target(tmp_path):
    producer = Made(
        Prepare(),
        Files([Chunk("a.jsonl", b"1\n"), Chunk("b.json", b"{}", whole=True)], 2, {"docs": 2}),
        Files([Chunk("a.jsonl", b"2\n")], 1, {"docs": 1}),
        Done(0, {"journeys": 4}),
        Tally("org", 3),
    )
    seen: list[int] = []
    with FolderWriter(tmp_path) as writer:
        written = write(producer, writer, workers=3, progress=seen.append)
    assert producer.workers == [3]
    assert (tmp_path / "a.jsonl").read_bytes() == b"1\n2\n"
    assert written.counts == {"docs": 3, "journeys": 4}
    assert written.summary.written == {"org": 3}
    assert seen == [2, 1]
    assert writer.digests()["a.jsonl"] == hashlib.sha256(b"1\n2\n").hexdigest()


def test_rows_without_a_count_count_what_the_target_wrote(tmp_path):
    class Rowed(ChunkSink):
        def write(self, table: TableSpec, records) -> int:
            return len(list(records))

    seen: list[int] = []
    with Rowed() as target:
        write(Made(Rows(ORG, [{"id": "a"}, {"id": "b"}])), target, progress=seen.append)
    assert seen == [2]


def step(journey: str, index: int) -> dict[str, object]:
    return {"id": f"{journey}-{index}", "journey_id": journey, "step_index": index}


def test_steps_are_flushed_between_journeys_parents_first_each_table_prepared_once():
    records = [
        (USER, step("j1", 0)),
        (ORG, step("j1", 1)),
        (USER, step("j1", 2)),  # the user's batch is full here, but j1 goes on
        (ORG, step("j1", 3)),
        Done(1),
        (USER, step("j2", 0)),  # a new journey: everything pending is written first
        Done(1),
    ]
    batches = list(step_batches(records, limit=2))
    shown = [describe(batch) for batch in batches]
    assert shown == [
        "done 1",
        "prepare org user",
        "rows org 2",
        "rows user 2",
        "done 1",
        "rows user 1",
    ]


def describe(batch: Batch) -> str:
    if isinstance(batch, Prepare):
        return " ".join(["prepare", *(t.name for t in batch.tables)])
    if isinstance(batch, Rows):
        return f"rows {batch.table.name} {len(list(batch.records))}"
    assert isinstance(batch, Done)
    return f"done {batch.count}"
