"""The probe command on SQLite: scales compared, reports, and bad input as one line each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from datagen.probes import run_probe
from datagen.probes.compare import compare
from datagen.probes.plans import Access, PlanSummary
from datagen.probes.results import Explained, FullScan, Latency, QueryResult, ScaleResult
from tests.probes.probe_files import ROOT, write_probe

QUERIES = """queries:
  host_by_id:
    sql: SELECT id, name FROM resource_provider WHERE id = :host
    params:
      host: {pick: resource_provider.id}
    repeat: 50
  hosts_of_kind:
    sql: SELECT id FROM resource_provider WHERE provider_type = :kind
    params:
      kind: runm.compute
    repeat: 20
"""


def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'probe.db'}"


def test_scales_are_compared_and_a_growing_full_scan_is_flagged(tmp_path, run):
    probe = write_probe(tmp_path, QUERIES)
    report, page = tmp_path / "r.json", tmp_path / "r.html"
    result = run("probe", probe, "--to", sqlite_url(tmp_path), "--scales", "0.1,0.05",
                 "--workers", 1, "--report", report, "--html", page)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "! resource_provider scanned in full at 0.1×: 100 rows" in result.output
    data = json.loads(report.read_text())
    assert data["report_version"] == 1 and data["ok"] is True
    assert [s["scale"] for s in data["scales"]] == [0.05, 0.1]  # smallest first
    small, large = data["scales"]
    assert small["rows"]["resource_provider"] == 60 and large["rows"]["resource_provider"] == 100
    by_name = {q["name"]: q for q in large["queries"]}
    assert by_name["host_by_id"]["executions"] == 50
    assert by_name["host_by_id"]["rows"] == {"min": 1, "median": 1, "max": 1}
    assert by_name["host_by_id"]["plan"]["full_scans"] == []
    assert by_name["hosts_of_kind"]["plan"]["full_scans"] == [
        {"table": "resource_provider", "rows": 100}
    ]
    assert by_name["hosts_of_kind"]["rows"]["max"] == 100  # every host is runm.compute
    entries = {(c["name"], c["scale"]): c for c in data["comparison"]}
    scan = entries[("hosts_of_kind", 0.1)]
    assert scan["rows_ratio"] == pytest.approx(100 / 60, rel=1e-3)
    assert scan["flags"] == ["resource_provider scanned in full at 0.1×: 100 rows"]
    assert entries[("host_by_id", 0.1)]["flags"] == []
    html = page.read_text()
    assert html.count("<svg") == 2 and "hosts_of_kind" in html


def test_a_changed_plan_is_flagged():
    def scale(value, rows, accesses):
        result = ScaleResult(value, rows={"host": rows})
        plan = PlanSummary(accesses=accesses)
        scans = [FullScan(table, rows) for table in plan.full_scans]
        explained = Explained(plan, scans, tables={"host": rows})
        latency = Latency(1, 0.2 * value)
        result.queries.append(QueryResult("q", latency=latency, explained=explained))
        return result

    small = scale(1, 1000, [Access("host", "index", "ix_host_rack")])
    large = scale(10, 10000, [Access("host", "full")])
    [entry] = compare([small, large])
    assert entry.latency_ratio == pytest.approx(10)
    assert entry.rows_ratio == pytest.approx(10)
    assert entry.flags == [
        "plan changed: index ix_host_rack on host at 1× → full scan: host at 10×",
        "host scanned in full at 10×: 10,000 rows (not at 1×)",
    ]


def test_no_populate_uses_the_database_as_it_is(tmp_path, run):
    probe = write_probe(tmp_path, QUERIES)
    url = sqlite_url(tmp_path)
    assert run("probe", probe, "--to", url, "--scales", "0.05", "--workers", 1).exit_code == 0
    again = run("probe", probe, "--to", url, "--scales", "0.05", "--no-populate", "--quiet")
    assert again.exit_code == 0, again.output
    wrong = run("probe", probe, "--to", url, "--scales", "0.1", "--no-populate")
    assert wrong.exit_code == 2
    assert "does not hold 'resource_1k_shared_compute' at --scale 0.1" in wrong.output
    two = run("probe", probe, "--to", url, "--scales", "1,10", "--no-populate")
    assert two.exit_code == 2 and "give --scales K" in two.output
    # Without --scales, the one of the file's scales the database holds.
    probe.write_text(probe.read_text() + "scales: [0.1, 0.05]\n")
    found = run("probe", probe, "--to", url, "--no-populate", "--report", tmp_path / "r.json")
    assert found.exit_code == 0, found.output
    assert json.loads((tmp_path / "r.json").read_text())["scales"][0]["scale"] == 0.05
    missing = run("probe", probe, "--to", sqlite_url(tmp_path / "none"), "--no-populate")
    assert missing.exit_code == 2 and "no SQLite database at" in missing.output


class Ticks:
    """A clock that moves 10 ms each time it is read (durations in tests take no time)."""

    def __init__(self):
        self.time = 0.0

    def now(self):
        self.time += 0.01
        return self.time

    def sleep_until(self, deadline, stop):
        self.time = max(self.time, deadline)
        return not stop.is_set()

    def bind(self, settle):
        pass


def test_duration_is_shared_on_the_clock_in_place_of_repeat(tmp_path):
    """Was: --duration went only to items without 'repeat:', so it did nothing on the shipped
    probes (every item has one)."""
    probe = write_probe(
        tmp_path, QUERIES.replace("    repeat: 50\n", "    repeat: 50\n    share: 0.75\n")
    )
    result = run_probe(probe, to=sqlite_url(tmp_path), scales=(0.05,), duration=2.0,
                       clock=Ticks(), workers=1)  # fmt: skip
    runs = {q.name: q.executions for q in result.scales[0].queries}
    # 1.5 s and 0.5 s of a clock read once per execution, 10 ms a read (not 50 and 20 runs)
    assert 140 <= runs["host_by_id"] <= 150 and 40 <= runs["hosts_of_kind"] <= 50
    without = run_probe(probe, to=sqlite_url(tmp_path), scales=(0.05,), workers=1)
    assert [q.executions for q in without.scales[0].queries] == [50, 20]  # repeat: again


def test_the_shipped_probes_share_a_duration(tmp_path):
    """The README's example (`probes/prod_like.yaml … --duration 30s`): every query is timed."""
    from datagen.probes.loader import load_probe
    from datagen.probes.scale import plan_runs

    for name in ("prod_like", "resource_claims"):
        probe = load_probe(ROOT / "probes" / f"{name}.yaml")
        runs = plan_runs(probe, 30.0)
        assert set(runs) == {item.name for item in probe.items()}
        assert all(repeat is None and seconds for repeat, seconds in runs.values())
        assert sum(seconds for _, seconds in runs.values()) == pytest.approx(30.0)


BAD = [
    ("queries:\n  q:\n    sqll: SELECT 1\n", 4, "queries.q.sqll: unknown key"),
    (
        "queries:\n  q:\n    sql: SELECT :nope\n",
        4,
        "queries.q.sql: ':nope' is not a parameter of this query; its parameters: none",
    ),
    (
        "queries:\n  q:\n    sql: SELECT :h\n    params:\n      h: {pick: nope.id}\n",
        6,
        "queries.q.params.h: picks from 'nope', which scenario 'resource_1k_shared_compute' "
        "does not build",
    ),
    (
        "queries:\n  q:\n    sql: SELECT :h\n    params:\n      h: {pick: resource_provider.nme}\n",
        6,
        "table 'resource_provider' (of 'resource_provider') has no column 'nme'",
    ),
    (
        "queries:\n  q:\n    sql: SELECT 1\n    repeat: 0\n",
        5,
        "queries.q.repeat: 0 is less than the minimum of 1",
    ),
    (
        "transactions:\n  t:\n    steps:\n      - SELECT :c.id\n",
        5,
        "':c.id': no earlier step 'c' chooses a row",
    ),
    ("queries:\n  q:\n    sql: SELEC 1\n", 3, "query 'q': SQLite refused it: near \"SELEC\""),
    (  # was: a TypeError traceback at run time, after populating
        "queries:\n  q:\n    sql: SELECT :e\n    params:\n"
        "      e: {mimesis: person.email, args: {nope: 1}}\n",
        6,
        "queries.q.params.e: person.email with args {'nope': 1} fails: TypeError: ",
    ),
    (
        "queries:\n  q:\n    sql: SELECT :e\n    params:\n      e: {mimesis: person.nope}\n",
        6,
        "queries.q.params.e: unknown Mimesis field 'person.nope' (use 'provider.method'",
    ),
]


@pytest.mark.parametrize("body, line, message", BAD)
def test_bad_probe_files_name_file_line_and_key(tmp_path, run, body, line, message):
    probe = write_probe(tmp_path, body)
    result = run("probe", probe, "--to", sqlite_url(tmp_path), "--scales", "0.05", "--workers", 1)
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]  # after what was done (populating, for SQL)
    assert last.startswith(f"Error: {probe}:{line}: "), result.output
    assert message in last
    assert "Traceback" not in result.output


def test_a_missing_scenario_and_a_missing_file(tmp_path, run):
    probe = tmp_path / "p.yaml"
    probe.write_text("scenario: nowhere.yaml\nqueries:\n  q:\n    sql: SELECT 1\n")
    result = run("probe", probe)
    assert result.exit_code == 2
    assert f"Error: {probe}:1: scenario: no such file" in result.output
    result = run("probe", tmp_path / "absent.yaml")
    assert result.exit_code == 2 and "no probe file" in result.output


@pytest.mark.parametrize("to", ["{tmp}/folder", "{tmp}/all.zip", "azure://c/p"])
def test_a_target_that_is_not_a_database_is_refused_naming_the_forms(tmp_path, run, to):
    """Was: 'unsupported target … (use a folder, NAME.zip, …)', which probe does not take."""
    to = to.replace("{tmp}", str(tmp_path))
    result = run("probe", write_probe(tmp_path, QUERIES), "--to", to)
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"Error: --to: a probe runs on a database, and {to!r} is not a database URL (give "
        "sqlite:///FILE.db, postgresql://USER@HOST/DATABASE or "
        "mysql+pymysql://USER@HOST/DATABASE, for MariaDB too)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.yaml"]


def test_an_unreachable_database_is_one_line_without_its_password(tmp_path, run):
    probe = write_probe(tmp_path, QUERIES)
    result = run("probe", probe, "--to", "postgresql://probe:s3cret@127.0.0.1:1/nowhere")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: cannot connect to PostgreSQL at 127.0.0.1:1: connection refused (check that "
        "the server runs and the URL's host, port, user and database)"
    ]
    assert "s3cret" not in result.output


@pytest.mark.parametrize(
    "sig, code, word",
    [(signal.SIGINT, 130, "Interrupted"), (signal.SIGTERM, 143, "Terminated (SIGTERM)")],
)
def test_ctrl_c_or_sigterm_prints_what_was_measured_and_exits_130_or_143(tmp_path, sig, code, word):
    """Was: SIGTERM exited 130 saying "Interrupted", where the README and app.py say 143."""
    body = QUERIES.replace("    repeat: 50\n", "").replace("    repeat: 20\n", "")
    probe = write_probe(tmp_path, body)
    command = [sys.executable, str(ROOT / "generate.py"), "probe", str(probe),
               "--to", sqlite_url(tmp_path), "--scales", "0.05", "--duration", "60s",
               "--workers", "1"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert process.stderr is not None
    for line in process.stderr:  # wait until the queries are running
        if " rows (" in line:
            break
    time.sleep(1.0)
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert "host_by_id" in out and "(incomplete: interrupted)" in out
    assert err.splitlines()[-1] == f"{word}: the figures above are what was measured so far."
    assert "Traceback" not in err


def test_an_unwritable_report_folder_is_refused_before_any_work(tmp_path, run):
    probe = write_probe(tmp_path, QUERIES)
    (tmp_path / "file").write_text("not a folder")
    for option in ("--report", "--html"):
        result = run("probe", probe, "--to", sqlite_url(tmp_path), "--scales", "0.05",
                     option, tmp_path / "file" / "r")  # fmt: skip
        assert result.exit_code == 2, result.output
        assert result.output.splitlines() == [
            f"Error: cannot write to '{tmp_path / 'file'}': File exists (choose a writable "
            f"folder with {option})"
        ]
    assert not (tmp_path / "probe.db").exists()  # nothing populated


def test_reports_on_a_full_disk_lose_no_result(tmp_path, run, small_disk):
    """Was: the summary never printed, and the error named the report's temporary file."""
    probe = write_probe(tmp_path, QUERIES)
    with small_disk("256k") as disk:
        with open(disk / "filler", "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"x" * 4096)
            except OSError:
                pass  # full
        report, page = disk / "r.json", disk / "r.html"
        result = run("probe", probe, "--to", sqlite_url(tmp_path), "--scales", "0.05",
                     "--workers", 1, "--report", report, "--html", page)  # fmt: skip
        assert result.exit_code == 1, result.output
        assert "host_by_id" in result.stdout and "hosts_of_kind" in result.stdout  # the summary
        assert result.stderr.splitlines()[-2:] == [
            f"Error: cannot write the report {report}: No space left on device",
            f"Error: cannot write the html {page}: No space left on device",
        ]
        assert "Traceback" not in result.output
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]  # no temporary file left
