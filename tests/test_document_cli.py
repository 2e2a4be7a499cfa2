"""The document command end to end: files, formats, seeds, bad input."""

from __future__ import annotations

import csv
import hashlib
import json

import orjson
import pytest

from datagen.documents import get_provider
from datagen.manifest import read_manifest
from datagen.seeding import SHARD_SIZE
from tests.trees import digest_tree


def test_default_json_writes_one_file_per_document_and_a_manifest(run, tmp_path):
    result = run("document", "-p", "org", "-q", "3", "--seed", "7", "--to", tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "org"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["manifest.json", "org-000001.json", "org-000002.json", "org-000003.json"]
    document = json.loads((folder / "org-000002.json").read_text())
    assert list(document) == list(get_provider("org").template())
    assert document["id"] == get_provider("org").generate(seed=7, index=1)["id"]
    manifest = read_manifest(folder)
    assert (manifest.provider, manifest.seed, manifest.quantity) == ("org", 7, 3)
    assert manifest.shard_size == SHARD_SIZE
    assert manifest.counts == {"org": 3}
    for name, sha in manifest.files.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha
    assert "Wrote 3 org documents (json, seed 7)" in result.output


def test_seed_readme_spellings_still_work(run, tmp_path):
    result = run(
        "document",
        "--output_path",
        tmp_path,
        "--document_provider",
        "starfleet_account",
        "--quantity",
        "2",
        "--seed",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "starfleet_account").glob("*.json"))) == 3  # 2 + manifest


def test_jsonl_has_one_line_per_document_in_index_order(run, tmp_path):
    quantity = SHARD_SIZE + 5  # crosses a shard boundary
    result = run(
        "document",
        "-p",
        "org",
        "-q",
        quantity,
        "--seed",
        "3",
        "--format",
        "jsonl",
        "--to",
        tmp_path,
        "--workers",
        "1",
    )
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "org" / "org.jsonl").read_bytes().splitlines()
    assert len(lines) == quantity
    ids = [orjson.loads(line)["id"] for line in lines]
    assert len(set(ids)) == quantity


def test_csv_flattens_nested_objects_and_keeps_lists_as_json(run, tmp_path):
    result = run(
        "document", "-p", "org", "-q", "20", "--seed", "3", "--format", "csv", "--to", tmp_path
    )
    assert result.exit_code == 0, result.output
    jsonl = run(
        "document",
        "-p",
        "org",
        "-q",
        "20",
        "--seed",
        "3",
        "--format",
        "jsonl",
        "--to",
        tmp_path / "j",
    )
    assert jsonl.exit_code == 0
    rows = list(csv.DictReader((tmp_path / "org" / "org.csv").open(newline="")))
    docs = [
        orjson.loads(x) for x in (tmp_path / "j" / "org" / "org.jsonl").read_bytes().splitlines()
    ]
    assert len(rows) == 20
    assert "settings.timezone" in rows[0] and "settings" not in rows[0]
    for row, doc in zip(rows, docs):
        assert row["id"] == doc["id"]
        assert row["settings.timezone"] == doc["settings"]["timezone"]
        assert json.loads(row["tags"]) == doc["tags"]
        assert int(row["seats"]) == doc["seats"]


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_same_seed_same_bytes_across_runs_and_worker_counts(run, tmp_path, fmt):
    quantity = 2 * SHARD_SIZE + 17
    trees = []
    for n, workers in enumerate(["1", "2", "1"]):
        out = tmp_path / f"run{n}"
        result = run(
            "document",
            "-p",
            "user",
            "-q",
            quantity,
            "--seed",
            "11",
            "--format",
            fmt,
            "--workers",
            workers,
            "--to",
            out,
            "--quiet",
        )
        assert result.exit_code == 0, result.output
        trees.append(digest_tree(out))
    assert trees[0] == trees[1] == trees[2]
    assert len(trees[0]) > 1


def test_different_seed_gives_different_output(run, tmp_path):
    for seed in ("1", "2"):
        run(
            "document",
            "-p",
            "org",
            "-q",
            "5",
            "--seed",
            seed,
            "--format",
            "jsonl",
            "--to",
            tmp_path / seed,
        )
    a = (tmp_path / "1" / "org" / "org.jsonl").read_bytes()
    b = (tmp_path / "2" / "org" / "org.jsonl").read_bytes()
    assert a != b


def test_no_seed_chooses_one_prints_it_and_records_it(run, tmp_path):
    result = run("document", "-p", "org", "-q", "2", "--to", tmp_path, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    seed = read_manifest(tmp_path / "org").seed
    assert f"Seed: {seed} (chosen; pass --seed {seed} to reproduce)" in result.stderr
    again = run(
        "document",
        "-p",
        "org",
        "-q",
        "2",
        "--to",
        tmp_path / "again",
        "--seed",
        seed,
        "--format",
        "jsonl",
    )
    assert again.exit_code == 0
    assert digest_tree(tmp_path / "org") == digest_tree(tmp_path / "again" / "org")


def test_locale_changes_the_text(run, tmp_path):
    run(
        "document",
        "-p",
        "user",
        "-q",
        "5",
        "--seed",
        "1",
        "--format",
        "jsonl",
        "--to",
        tmp_path / "en",
    )
    result = run(
        "document",
        "-p",
        "user",
        "-q",
        "5",
        "--seed",
        "1",
        "--format",
        "jsonl",
        "--locale",
        "de",
        "--to",
        tmp_path / "de",
    )
    assert result.exit_code == 0, result.output
    assert read_manifest(tmp_path / "de" / "user").locale == "de"
    en = (tmp_path / "en" / "user" / "user.jsonl").read_bytes()
    de = (tmp_path / "de" / "user" / "user.jsonl").read_bytes()
    assert en != de


def test_rerun_replaces_the_previous_run_completely(run, tmp_path):
    run("document", "-p", "org", "-q", "5", "--seed", "1", "--to", tmp_path)
    result = run("document", "-p", "org", "-q", "2", "--seed", "1", "--to", tmp_path)
    assert result.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "org").iterdir()) == [
        "manifest.json",
        "org-000001.json",
        "org-000002.json",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["org"]  # no temporary folders left


def test_a_failure_mid_run_leaves_no_partial_output(run, tmp_path, monkeypatch):
    run("document", "-p", "org", "-q", "3", "--seed", "1", "--to", tmp_path)
    before = digest_tree(tmp_path)

    import datagen.generator as generator

    def explode(job, shard):
        raise KeyboardInterrupt

    monkeypatch.setattr(generator, "document_shard", explode)
    result = run("document", "-p", "org", "-q", "3", "--seed", "2", "--to", tmp_path)
    assert result.exit_code == 130
    assert "Interrupted: the target may hold part of the run, never a half-written" in result.output
    assert digest_tree(tmp_path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["org"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["-p", "nope"],
            "Error: Invalid value for '-p' / '--provider' / '--document_provider': "
            "'nope' is not one of ",
        ),
        (
            ["-p", "org", "-q", "0"],
            "Error: Invalid value for '-q' / '--quantity': '0' is out of range: "
            "give a whole number from 1 to 1,000,000,000, e.g. 1000",
        ),
        (
            ["-p", "org", "--format", "xml"],
            "Error: Invalid value for '--format': 'xml' is not one of 'json', 'jsonl', 'csv'.",
        ),
        (["-p", "org", "--locale", "xx"], "Error: unknown locale 'xx'; known: ar-ae, "),
        (
            ["-p", "org", "--workers", "0"],
            "Error: Invalid value for '--workers': '0' is out of range: "
            "give a whole number from 1 to 256, e.g. 4",
        ),
        (
            ["-p", "user", "--refs", "org"],
            "Error: Invalid value for '--refs': 'org' should be PROVIDER=COUNT, e.g. org=1000",
        ),
        (["-p", "user", "--refs", "nope=3"], "Error: unknown document provider 'nope'; known: "),
    ],
)
def test_bad_input_is_a_one_line_usage_error(run, tmp_path, args, message):
    result = run("document", *args, "--to", tmp_path)
    assert result.exit_code == 2
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1
    assert error_lines[0].startswith(message)
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_unknown_provider_lists_the_known_ones(run):
    result = run("document", "-p", "nope")
    for name in ("org", "user", "engine", "job"):
        assert f"'{name}'" in result.output


def test_unwritable_output_path(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("document", "-p", "org", "--to", blocker / "sub")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: cannot write to '{blocker / 'sub'}': Not a directory "
        "(choose a writable folder with --to)"
    )
    assert blocker.read_text() == "x"


def test_debug_shows_the_traceback(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("--debug", "document", "-p", "org", "--to", blocker / "sub")
    assert result.exit_code == 1
    assert result.exception is not None
    assert type(result.exception).__name__ == "InputError"
