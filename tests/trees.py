"""Comparing folders of output: each file's SHA-256 by its relative path."""

from __future__ import annotations

from pathlib import Path

from datagen.atomic import sha256_file


def digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()
    }
