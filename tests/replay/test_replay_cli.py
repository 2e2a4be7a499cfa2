"""The replay command: options, errors, report, and Ctrl-C then --resume in a real process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from datagen.journey_generator import build_zip
from datagen.replay.source import load_journeys
from tests.replay.conftest import Recorder

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--speed", "0", "Invalid value for '--speed': '0' is out of range: give a number from"),
        ("--speed", "-60", "Invalid value for '--speed': '-60' is out of range: give a number"),
        ("--speed", "fast", "Invalid value for '--speed': 'fast' is not a number from 0.001 to"),
        ("--ramp-up", "5x", "Invalid value for '--ramp-up': '5x' is not a duration"),
        ("--duration", "-5", "Invalid value for '--duration': '-5' is out of range: give a"),
        ("--ramp-up", "inf", "Invalid value for '--ramp-up': 'inf' is not a duration from 0 to"),
        ("--duration", "nan", "Invalid value for '--duration': 'nan' is not a duration from 0"),
        ("--header", "NoColon", "Invalid value for '--header': the --header has no ':' between"),
        ("--header", "X-A: a\nB: s3cret", "Invalid value for '--header': the value of 'X-A' has"),
    ],
)
def test_bad_options_exit_2_naming_the_option(run, journeys, option, value, message) -> None:
    result = run("replay", journeys, "--to", "http://127.0.0.1:9/{type}", option, value)
    assert result.exit_code == 2
    assert f"Error: {message}" in result.output
    assert "s3cret" not in result.output


def test_a_bad_zip_stops_everything_before_a_write(run, journeys: Path, tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(journeys, source)
    (source / "zz-slip.zip").write_bytes(build_zip([("../evil.json", b"{}")]))
    database = tmp_path / "staging.db"
    result = run("replay", source, "--to", f"sqlite:///{database}", "--speed", "max")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"Error: {source / 'zz-slip.zip'}: zip entry '../evil.json' escapes the extraction "
        "folder (zip slip); the journey is refused"
    )
    assert not database.exists()
    assert not (tmp_path / "evil.json").exists()


def test_report_and_summary(run, journeys: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run(
        "replay", journeys, "--to", f"sqlite:///{tmp_path / 's.db'}", "--speed", "max",
        "--report", report,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    total = sum(len(j.steps) for j in load_journeys(journeys))
    data = json.loads(report.read_text())
    assert data["steps"]["written"] == data["steps"]["planned"] == total
    assert sum(data["written_by_type"].values()) == total
    assert data["speed"] == "max" and data["failures"] == [] and data["schedule_lag_ms"] is None
    assert f"{total:,} of {total:,} steps written" in result.output


def test_failed_steps_exit_1_and_name_journey_and_step(
    run, journeys: Path, tmp_path: Path, http_server: Recorder
) -> None:
    one = sorted(journeys.glob("*.zip"))[0]
    http_server.answers = [422]
    result = run(
        "replay", one, "--to", f"{http_server.url}/{{type}}", "--speed", "max",
        "--checkpoint", tmp_path / "ck.json", "--header", "Authorization: Bearer t0ps3cret",
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"Failed: journey {one.stem} step 0 (user): 127.0.0.1:" in result.output
    assert "answered HTTP 422 for /user" in result.output
    assert "Error: 1 steps failed after retries" in result.output
    assert "t0ps3cret" not in result.output


def test_ctrl_c_writes_a_checkpoint_and_resume_finishes_without_repeats(
    journeys: Path, tmp_path: Path, http_server: Recorder
) -> None:
    total = sum(len(j.steps) for j in load_journeys(journeys))
    checkpoint = tmp_path / "ck.json"
    # At 600x the replay lasts ~16 s, so the Ctrl-C sent after the first 20 steps finds it
    # running however busy the machine (at 2000x it had ~4 s to spare).
    command = [
        sys.executable, "generate.py", "replay", str(journeys),
        "--to", f"{http_server.url}/{{type}}", "--speed", "600", "--checkpoint", str(checkpoint),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while len(http_server.received) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "Stopping: finishing the writes in flight" in err
    assert f"Checkpoint: {checkpoint}" in err
    assert "Interrupted into" in out
    first = len(http_server.received)
    assert 20 <= first < total

    resumed = subprocess.run(
        [*command[:-4], "--speed", "max", "--resume", str(checkpoint)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"{first} done before" in resumed.stdout
    counts = Counter(http_server.keys())
    assert len(counts) == total and set(counts.values()) == {1}
