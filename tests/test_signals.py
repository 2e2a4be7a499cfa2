"""SIGTERM and kill -9 of real processes: what they leave, and what the next run does with it.

Issue 13: SIGTERM of `document` exited 143 without a word and left a hidden
`.PROVIDER.partial-*` folder (now `.datagen-partial-PROVIDER-*`; 67-123 MB seen), as
kill -9 does; no later run removed it, and `publish --to NAME.zip` packed it into the zip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.trees import forge_manifest

REPO = Path(__file__).resolve().parents[1]


def start(*args: object, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "generate.py", *map(str, args)],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def leftovers(folder: Path) -> list[Path]:
    return sorted(folder.glob(".datagen-partial-*"))


def wait_for_partial(folder: Path, process: subprocess.Popen[str], glob: str = "*") -> Path:
    """The run's hidden partial folder, once it holds some output."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for partial in folder.glob(".datagen-partial-*"):
            if any(partial.glob(glob)):
                return partial
        time.sleep(0.05)
    raise AssertionError("the run made no partial folder")


def processes_naming(marker: str) -> list[int]:
    """PIDs of live processes whose command line holds ``marker`` (a run and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    if (entry / "stat").read_text().split()[2] != "Z":
                        found.append(int(entry.name))
            except OSError:
                pass
    return found


def wait_gone(marker: str) -> None:
    deadline = time.monotonic() + 10
    while processes_naming(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_naming(marker) == []


BIG = ("-p", "job", "-q", 2_000_000, "--seed", 7, "--format", "jsonl", "--workers", 2)


def test_sigterm_cleans_up_says_so_and_exits_143(tmp_path):
    out = tmp_path / "out"
    process = start("document", *BIG, "--to", out)
    wait_for_partial(out, process, "job.jsonl")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert err.endswith(
        "Terminated (SIGTERM): the target may hold part of the run, never a half-written file "
        "or batch; run the same command again to finish (writes are idempotent).\n"
    )
    assert "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == []
    wait_gone(str(out))  # the workers too


def test_a_killed_runs_leftover_is_never_published_and_the_next_run_removes_it(run, tmp_path):
    out = tmp_path / "out"
    assert run("document", "-p", "org", "-q", 5, "--seed", 1, "--to", out, "--quiet").exit_code == 0
    process = start("document", *BIG, "--to", out)
    partial = wait_for_partial(out, process, "job.jsonl")
    process.kill()
    process.communicate(timeout=60)
    wait_gone(str(out))  # the workers die with their parent
    assert leftovers(out) == [partial] and (partial / "job.jsonl").stat().st_size > 0

    assert run("publish", out, "--to", tmp_path / "all.zip").exit_code == 0
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        assert archive.namelist() == ["org/manifest.json", "org/org-000001.json", *[
            f"org/org-00000{n}.json" for n in range(2, 6)
        ]]  # fmt: skip
    for target in (tmp_path / "copy.zip", f"sqlite:///{tmp_path / 'x.db'}"):
        result = run("publish", partial, "--to", target)  # named on purpose: still refused
        assert result.exit_code == 2
        assert result.output.splitlines()[-1] == (
            f"Error: {partial} is the temporary folder of a run that did not finish; it is "
            "never published (generate the run again (the next run into its folder removes it))"
        )
    result = run("document", "-p", "user", "-q", 3, "--seed", 1, "--to", out, "--quiet")
    assert result.exit_code == 0
    assert leftovers(out) == []
    assert sorted(p.name for p in out.iterdir()) == ["org", "user"]


def test_a_live_runs_partial_folder_is_left_alone(run, tmp_path):
    out = tmp_path / "out"
    process = start("document", *BIG, "--to", out)
    try:
        partial = wait_for_partial(out, process, "job.jsonl")
        assert run("document", "-p", "org", "-q", 3, "--to", out, "--quiet").exit_code == 0
        assert leftovers(out) == [partial]  # its owner holds its lock
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert leftovers(out) == []


def spill_of(process: subprocess.Popen[str], folder: Path) -> bool:
    """Does ``process`` hold an anonymous (unlinked) temporary file in ``folder``?"""
    for fd in Path(f"/proc/{process.pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(f"{folder}/") and target.endswith("(deleted)"):
            return True
    return False


def test_a_killed_zip_run_leaves_nothing(run, tmp_path, monkeypatch):
    """`document --to NAME.zip` makes its files in one anonymous temporary file first.

    (It once made them in a scratch folder in TMPDIR, which a kill -9 left for the
    next run to remove.) The file has no name: killed, the run leaves nothing.
    """
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    process = start(
        "document", *BIG, "--to", tmp_path / "all.zip", env={"TMPDIR": str(scratch)}
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not spill_of(process, tmp_path):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.kill()
    process.communicate(timeout=60)
    assert list(scratch.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    result = run("document", "-p", "org", "-q", 2, "--to", tmp_path / "b.zip", "--quiet")
    assert result.exit_code == 0, result.output
    assert list(scratch.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.zip", "tmp"]


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_publish_into_a_zip_leaves_no_partial_zip(tmp_path, run, sig, code):
    out = tmp_path / "out"
    args = ("-p", "org", "-q", 5, "--seed", 3, "--format", "jsonl", "--quiet")
    assert run("document", *args, "--to", out).exit_code == 0
    with open(out / "org" / "org.jsonl", "ab") as handle:  # a big run, quickly
        block = (out / "org" / "org.jsonl").read_bytes() * 1000
        while handle.tell() < 200 << 20:
            handle.write(block)
    forge_manifest(out / "org")
    process = start("publish", out, "--to", tmp_path / "all.zip")
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".datagen-partial-all.zip-*")):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.01)
    process.send_signal(sig)
    process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip("the publish finished before the signal (a fast machine)")
    assert process.returncode == code
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_a_signal_right_after_the_temporary_entry_is_made_still_removes_it(
    tmp_path, monkeypatch, kind
):
    """The window the zip test once hit: Ctrl-C between mkstemp/mkdtemp and the clean-up's try."""
    import datagen.atomic as atomic

    made = atomic._locked_temp

    def made_then_interrupted(*args, **kwargs):
        entry = made(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # handled at Python's next instruction
        return entry

    monkeypatch.setattr(atomic, "_locked_temp", made_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        if kind == "directory":
            with atomic.atomic_directory(tmp_path / "run"):
                pass
        else:
            with atomic.atomic_file(tmp_path / "all.zip"):
                pass
    assert list(tmp_path.iterdir()) == []
