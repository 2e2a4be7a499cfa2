"""Extreme values: each one a one-line error, exit 2, nothing written, no traceback.

One rule, stated once in ``datagen/limits.py`` and applied by the options'
types (``datagen_cli/options.py``), the manifest reader and the scenario
loader, so every command that takes an option refuses the same values in the
same words. The cases are those a new user hit (issue 13), each with the
exact message a person now reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.processes import run_measured

REPO = Path(__file__).resolve().parents[1]
PROD = REPO / "scenarios" / "prod_like.yaml"
PROBE = REPO / "probes" / "resource_claims.yaml"
BIG = "18446744073709551616"  # 2**64
SEED = "give a whole number from 0 to 9223372036854775807, e.g. 7"
COUNT = "give a whole number from 1 to 1,000,000,000, e.g. 1000"
SCALE = "a number above 0 and at most 1,000,000, e.g. 10 or 0.5"
DATE = "give a date from 1900-01-01 to 2999-12-31, e.g. 2025-01-01"
DURATION = "a duration from 0 to 365 days, such as 90 (seconds), 90s, 5m, 1h30m or 2d"

OPTIONS = [
    (
        ["document", "-p", "org", "--seed", BIG],
        f"Invalid value for '--seed': '{BIG}' is out of range: {SEED}",
    ),
    (
        ["document", "-p", "org", "--seed", BIG, "--to", "sqlite:///{tmp}/s.db"],
        f"Invalid value for '--seed': '{BIG}' is out of range: {SEED}",
    ),
    (
        ["journey", "-p", "job_lifecycle", "--seed", BIG],
        f"Invalid value for '--seed': '{BIG}' is out of range: {SEED}",
    ),
    (
        ["populate", PROD, "--seed", BIG, "--to", "sqlite:///{tmp}/p.db"],
        f"Invalid value for '--seed': '{BIG}' is out of range: {SEED}",
    ),
    (
        ["document", "-p", "org", "--seed", "-1"],
        f"Invalid value for '--seed': '-1' is out of range: {SEED}",
    ),
    (
        ["document", "-p", "user", "--refs", "org=12345678901234567890123"],
        "Invalid value for '--refs': org=COUNT: '12345678901234567890123' is out of range: "
        + COUNT,
    ),
    (
        [
            "document",
            "-p",
            "org",
            "--reference-date",
            "0001-01-01",
            "--to",
            "sqlite:///{tmp}/rd.db",
        ],
        f"Invalid value for '--reference-date': '0001-01-01' is out of range: {DATE}",
    ),
    (
        ["journey", "-p", "starfleet", "--reference-date", "9999-12-31"],
        f"Invalid value for '--reference-date': '9999-12-31' is out of range: {DATE}",
    ),
    (
        ["document", "-p", "org", "--reference-date", "yesterday"],
        "Invalid value for '--reference-date': 'yesterday' is not an ISO date such as 2025-01-01",
    ),
    (
        ["populate", PROD, "--scale", "nan", "--to", "sqlite:///{tmp}/p.db"],
        f"Invalid value for '--scale': 'nan' is not {SCALE}",
    ),
    (
        ["populate", PROD, "--scale", "inf", "--dry-run"],
        f"Invalid value for '--scale': 'inf' is not {SCALE}",
    ),
    (
        ["populate", PROD, "--scale", "1e300", "--dry-run"],
        f"Invalid value for '--scale': '1e300' is out of range: give {SCALE}",
    ),
    (
        ["verify-target", PROD, "--to", "sqlite:///{tmp}/v.db", "--scale", "nan"],
        f"Invalid value for '--scale': 'nan' is not {SCALE}",
    ),
    (
        ["report", PROD, "--scale", "inf", "-o", "{tmp}/r.html"],
        f"Invalid value for '--scale': 'inf' is not {SCALE}",
    ),
    (
        ["replay", "{tmp}", "--to", "{tmp}/r", "--speed", "1e-300"],
        "Invalid value for '--speed': '1e-300' is out of range: "
        "give a number from 0.001 to 1,000,000, e.g. 60, or 'max'",
    ),
    (
        ["replay", "{tmp}", "--to", "{tmp}/r", "--concurrency", "100000"],
        "Invalid value for '--concurrency': '100000' is out of range: "
        "give a whole number from 1 to 512, e.g. 8",
    ),
    (
        ["replay", "{tmp}", "--to", "{tmp}/r", "--retries", "1000000"],
        "Invalid value for '--retries': '1000000' is out of range: "
        "give a whole number from 0 to 100, e.g. 5",
    ),
    (
        ["replay", "{tmp}", "--to", "{tmp}/r", "--ramp-up", "400d"],
        f"Invalid value for '--ramp-up': '400d' is out of range: give {DURATION}",
    ),
    (
        ["replay", "{tmp}", "--to", "{tmp}/r", "--duration", "1e400"],
        f"Invalid value for '--duration': '1e400' is not {DURATION}",
    ),
    (
        ["document", "-p", "org", "--workers", "100000"],
        "Invalid value for '--workers': '100000' is out of range: "
        "give a whole number from 1 to 256, e.g. 4",
    ),
    (
        ["verify", "{tmp}", "--workers", "0"],
        "Invalid value for '--workers': '0' is out of range: "
        "give a whole number from 1 to 256, e.g. 4",
    ),
    (
        ["document", "-p", "org", "-q", "abc"],
        "Invalid value for '-q' / '--quantity': 'abc' is not a whole number from 1 to "
        "1,000,000,000, e.g. 1000",
    ),
    (
        ["journey", "-p", "starfleet", "-q", "1000000000000"],
        f"Invalid value for '-q' / '--quantity': '1000000000000' is out of range: {COUNT}",
    ),
    (  # was: populated, then a TypeError traceback writing the report
        ["probe", PROBE, "--seed", BIG, "--to", "sqlite:///{tmp}/p.db", "--report", "{tmp}/r"],
        f"Invalid value for '--seed': '{BIG}' is out of range: {SEED}",
    ),
    (
        ["probe", PROBE, "--retries", "1000000"],
        "Invalid value for '--retries': '1000000' is out of range: "
        "give a whole number from 0 to 100, e.g. 5",
    ),
    (
        ["probe", PROBE, "--clients", "100000"],
        "Invalid value for '--clients': '100000' is out of range: "
        "give a whole number from 1 to 256, e.g. 8",
    ),
    (
        ["probe", PROBE, "--scales", "1,nan"],
        f"Invalid value for '--scales': 'nan' is not {SCALE}",
    ),
    (
        ["probe", PROBE, "--scales", "1e300,1"],
        f"Invalid value for '--scales': '1e300' is out of range: give {SCALE}",
    ),
    (
        ["probe", PROBE, "--duration", "400d"],
        f"Invalid value for '--duration': '400d' is out of range: give {DURATION}",
    ),
    (
        ["probe", PROBE, "--workers", "0"],
        "Invalid value for '--workers': '0' is out of range: "
        "give a whole number from 1 to 256, e.g. 4",
    ),
]


@pytest.mark.parametrize("args, message", OPTIONS, ids=lambda v: " ".join(map(str, v))[:60])
def test_an_extreme_option_is_one_line_exit_2_and_writes_nothing(
    run, tmp_path, monkeypatch, args, message
):
    work = tmp_path / "work"
    work.mkdir()
    args = [str(a).replace("{tmp}", str(work)) for a in args]
    monkeypatch.chdir(work)  # a default target (output/…) would land here
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == f"Error: {message}"
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert sorted(p.name for p in work.iterdir()) == []  # not even an empty rd.db


def document_run(run, folder: Path, **changes: object) -> Path:
    """A small jsonl run of org whose manifest gets ``changes``."""
    assert run("document", "-p", "org", "-q", "5", "--seed", "3", "--format", "jsonl",
               "--to", folder, "--quiet").exit_code == 0  # fmt: skip
    manifest = folder / "org" / "manifest.json"
    data = json.loads(manifest.read_text())
    data.update(changes)
    manifest.write_text(json.dumps(data))
    return folder / "org"


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"provider": "nosuch"},
            "unknown document provider 'nosuch'; known: capability, engine, inventory, job,",
        ),
        ({"quantity": 10**12}, f"quantity: '1000000000000' is out of range: {COUNT}"),
        ({"seed": 2**63}, f"seed: '9223372036854775808' is out of range: {SEED}"),
        (
            {"seed": 2**64},
            f"seed: '{BIG}' is out of range: {SEED}",
        ),  # was: should be int, got 1.8…e+19
        ({"seed": 10**30}, f"seed: '{10**30}' is out of range: {SEED}"),
        ({"reference_date": "0001-01-01T00:00:00"}, "reference_date: '0001-01-01T00:00:00' is"),
        ({"kind": "spreadsheet"}, "unknown kind 'spreadsheet'; known: documents, journeys"),
    ],
)
@pytest.mark.parametrize("command", ["verify", "publish"])
def test_an_extreme_manifest_is_one_line_exit_2(
    run, tmp_path, monkeypatch, command, changes, message
):
    import datagen.verify

    regenerated: list[str] = []  # verify regenerates nothing: the manifest is refused first
    monkeypatch.setattr(
        datagen.verify, "_load_regenerator", lambda kind, _: regenerated.append(kind)
    )
    run_folder = document_run(run, tmp_path / "d", **changes)
    db = tmp_path / "x.db"
    args = (
        ["publish", tmp_path / "d", "--to", f"sqlite:///{db}"]
        if command == "publish"
        else ["verify", tmp_path / "d"]
    )
    result = run(*args)
    assert result.exit_code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith(f"Error: {run_folder / 'manifest.json'}: {message}"), line
    assert regenerated == []  # was: a timing bound (10**12 documents were not regenerated)
    assert not db.exists()


def test_publishing_a_run_into_its_own_parent_is_refused(run, tmp_path):
    run_folder = document_run(run, tmp_path / "d")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = run("publish", run_folder, "--to", tmp_path / "d")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: publishing {run_folder} to {tmp_path / 'd'} would copy the run onto itself "
        f"({run_folder}) (choose a target folder outside the runs)"
    )
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


SCENARIO_FILES = [
    (
        "seed: 18446744073709551616\nentities:\n  org: {count: 2}\n",
        "s.yaml:1: seed: 18446744073709551616 is greater than the maximum of "
        "9223372036854775807",
    ),
    (
        "reference_date: 0001-01-01\nentities:\n  org: {count: 2}\n",
        f"s.yaml:1: reference_date: '0001-01-01T00:00:00' is out of range: {DATE}",
    ),
    (
        "scale: 1.0e+300\nentities:\n  org: {count: 2}\n",
        "s.yaml:1: scale: 1e+300 is greater than the maximum of 1000000",
    ),
    ("a: &a [*a]\nentities:\n  org: {count: 1}\n", "s.yaml:1: an alias names a value that"),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", "s.yaml: invalid YAML: nested more than Python"),
    ("x: " + "[" * 300 + "]" * 300 + "\n", "s.yaml:1: nested more than 200 levels deep"),
]


@pytest.mark.parametrize("text, message", SCENARIO_FILES, ids=lambda v: str(v)[:30])
def test_an_extreme_scenario_file_is_one_line_exit_2(run, tmp_path, monkeypatch, text, message):
    (tmp_path / "s.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    result = run("populate", "s.yaml", "--to", "sqlite:///p.db")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith(f"Error: {message}")
    assert not (tmp_path / "p.db").exists()


def alias_bomb(leaf: str = "x") -> str:
    """1.3 KB of YAML whose aliases of aliases expand to 9**9 (387 million) values.

    ``leaf`` is its first value: ``!nosuch x`` cannot be constructed at all.
    """
    lines = [f"a: &a [{leaf}, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        name, previous = chr(97 + level), chr(96 + level)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    lines += ["entities: {org: {count: 2}}", "name: *i"]
    return "\n".join(lines) + "\n"


def test_a_value_that_cannot_be_built_is_refused_as_such(run, tmp_path):
    """What a scenario file with ``!nosuch`` gets once it is built (no bomb)."""
    (tmp_path / "tag.yaml").write_text("name: !nosuch x\nentities: {org: {count: 2}}\n")
    result = run("populate", tmp_path / "tag.yaml", "--dry-run")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: {tmp_path / 'tag.yaml'}:1: invalid YAML: could not determine a constructor "
        "for the tag '!nosuch'"
    )


@pytest.mark.parametrize("leaf", ["x", "!nosuch x"])
def test_a_yaml_alias_bomb_is_refused_before_it_is_built(tmp_path, leaf):
    """Was: 10.8 s, 1.8 GB and a 254 MB one-line error. Now refused from the composed nodes.

    Before anything is built: a bomb holding a value that cannot be built (see the
    test above) gets the bomb's message (this was a wall-clock bound).
    """
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(leaf))
    assert bomb.stat().st_size < 1500
    done = run_measured(["populate", bomb, "--dry-run"])
    assert done.returncode == 2
    assert done.stderr == (
        f"Error: {bomb}:7: it holds more than 1,000,000 values once its aliases are expanded "
        "(an alias bomb?); "
        "refused before reading it\n"
    )
    assert done.peak_mib < 200, done


PROBE_FILES = [
    (
        "seed: 18446744073709551616\n",
        "p.yaml:2: seed: 18446744073709551616 is greater than the maximum of "
        "9223372036854775807",
    ),
    ("scales: [1, 1.0e+300]\n", "p.yaml:2: scales[1]: 1e+300 is greater than the maximum of"),
]


@pytest.mark.parametrize("text, message", PROBE_FILES, ids=lambda v: str(v)[:20])
def test_an_extreme_probe_file_is_one_line_exit_2(run, tmp_path, monkeypatch, text, message):
    body = f"scenario: {REPO / 'scenarios' / 'resource_1k_shared_compute.yaml'}\n{text}"
    (tmp_path / "p.yaml").write_text(body + "queries:\n  q: {sql: SELECT 1}\n")
    monkeypatch.chdir(tmp_path)
    result = run("probe", "p.yaml", "--to", "sqlite:///p.db")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith(f"Error: {message}"), result.output
    assert not (tmp_path / "p.db").exists()


@pytest.mark.parametrize(
    "keyword, value, message",
    [
        ("seed", 2**64, f"seed: '{BIG}' is out of range: {SEED}"),
        ("clients", 100_000, "clients: '100000' is out of range: give a whole number from 1"),
        ("retries", -1, "retries: '-1' is out of range: give a whole number from 0 to 100"),
        ("duration", float("inf"), f"duration: 'inf' is not {DURATION}"),
        ("workers", 0, "workers: '0' is out of range: give a whole number from 1 to 256"),
        ("scales", (1.0, float("nan")), f"--scales: 'nan' is not {SCALE}"),
    ],
)
def test_run_probe_checks_its_inputs_before_any_work(tmp_path, keyword, value, message):
    """The library's entry point refuses what the CLI's types refuse (a Python caller's values)."""
    from datagen.errors import InputError
    from datagen.probes import run_probe

    with pytest.raises(InputError) as error:
        run_probe(PROBE, to=f"sqlite:///{tmp_path / 'p.db'}", **{keyword: value})
    assert str(error.value).startswith(message)
    assert list(tmp_path.iterdir()) == []
