"""Our temporary names are unmistakably ours: a user's hidden files beside a target survive.

Review of issue 13: every run swept the folder it wrote to for names like
``.X.partial`` or ``.X.old`` (with or without a suffix), so `document -p org
--to DIR` deleted the user's ``DIR/.bashrc.old``, ``DIR/.config.old/`` (the
whole tree) and ``DIR/.notes.partial``; and `publish` refused a SOURCE under a
folder named ``.backup.old``. Temporary entries are now
``.datagen-partial-NAME-XXXXXXXX`` / ``.datagen-old-NAME-XXXXXXXX``, and only
those (and the unsuffixed ``.NAME.zip.partial`` of versions before 0.4) are
swept. The kill -9 leftovers are still removed: ``tests/test_signals.py``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from datagen.atomic import LEFTOVER, sweep_leftovers

USERS = {".bashrc.old": "alias ll='ls -l'\n", ".notes.partial": "buy milk\n"}


def users_files(folder: Path) -> None:
    """A user's own hidden files and folder, with names our old pattern took for ours."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in USERS.items():
        (folder / name).write_text(text)
    (folder / ".config.old" / "app").mkdir(parents=True)
    (folder / ".config.old" / "app" / "settings.ini").write_text("[x]\ny = 1\n")


def assert_users_files_intact(folder: Path) -> None:
    for name, text in USERS.items():
        assert (folder / name).read_text() == text, name
    assert (folder / ".config.old" / "app" / "settings.ini").read_text() == "[x]\ny = 1\n"
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".datagen")]


def test_document_twice_into_a_folder_keeps_the_users_hidden_files(run, tmp_path):
    out = tmp_path / "out"
    users_files(out)
    for seed in (1, 2):  # the second run replaces the first (a .datagen-old-* folder meanwhile)
        result = run("document", "-p", "org", "-q", 3, "--seed", seed, "--to", out, "--quiet")
        assert result.exit_code == 0, result.output
    assert_users_files_intact(out)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["org"]


def test_publish_into_a_zip_keeps_the_users_hidden_files(run, tmp_path):
    source = tmp_path / "runs"
    assert run("document", "-p", "org", "-q", 3, "--seed", 1, "--to", source).exit_code == 0
    users_files(tmp_path)
    for _ in range(2):  # made, then replaced
        result = run("publish", source, "--to", tmp_path / "all.zip")
        assert result.exit_code == 0, result.output
    assert_users_files_intact(tmp_path)
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        assert archive.namelist()[0] == "org/manifest.json"


def test_populate_into_a_folder_keeps_the_users_hidden_files(run, tmp_path):
    scenario = tmp_path / "small.yaml"
    scenario.write_text("name: small\nseed: 3\nentities:\n  org: {count: 2}\n")
    out = tmp_path / "out"
    users_files(out)
    for _ in range(2):
        result = run("populate", scenario, "--to", out, "--workers", 1)
        assert result.exit_code == 0, result.output
    assert_users_files_intact(out)
    assert (out / "small" / "org" / "org.jsonl").read_text().count("\n") == 2


def test_a_source_under_a_users_hidden_folder_is_published(run, tmp_path):
    """Was: 'is the temporary folder of a run that did not finish', for ``.backup.old``."""
    source = tmp_path / ".backup.old" / "runs"
    assert run("document", "-p", "org", "-q", 3, "--seed", 1, "--to", source).exit_code == 0
    users_files(source)  # and a SOURCE holding hidden folders of its own
    (source / ".backup.old").mkdir()
    result = run("publish", source, "--to", tmp_path / "copy")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "copy" / "org").iterdir())[0] == "manifest.json"
    result = run("publish", source, "--to", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 0, result.output


def test_only_our_names_are_leftovers(tmp_path):
    ours = [".datagen-partial-org-abc_12xy", ".datagen-old-all.zip-0a1b2c3d", ".all.zip.partial"]
    theirs = [".bashrc.old", ".notes.partial", ".config.old", ".x.partial-abc", ".old"]
    theirs += [".datagen-partial-org", "datagen-partial-org-abcdefgh", ".x.zip.partial-1"]
    for name in ours + theirs:
        (tmp_path / name).mkdir()
    assert [n for n in ours + theirs if LEFTOVER.match(n)] == ours
    assert sorted(p.name for p in sweep_leftovers(tmp_path)) == sorted(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(theirs)
