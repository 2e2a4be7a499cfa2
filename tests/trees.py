"""Comparing folders of output: each file's SHA-256 by its relative path."""

from __future__ import annotations

import json
from pathlib import Path

from datagen.atomic import sha256_file


def digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()
    }


def forge_manifest(run_folder: Path) -> None:
    """Record the files' present SHA-256 in the run's manifest, as if it was made so.

    For tests of what a reader does with a bad file that its manifest vouches for.
    """
    path = run_folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"] = {name: sha256_file(run_folder / name) for name in manifest["files"]}
    path.write_text(json.dumps(manifest))
