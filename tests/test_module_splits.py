"""Modules split by concern keep every name where their callers import it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

KEPT = {
    # names other packages import from the module that used to define them
    "datagen.sinks.urls": [
        "BACKENDS", "MYSQL", "POSTGRESQL", "SQLITE", "Backend", "backend_label", "location",
        "parse_database_url", "sqlite_identity", "CONNECTION_STRING_ENV", "CONTAINER_URL_ENV",
        "SAS_TOKEN_ENV", "parse_blob_url", "url_uses_sas_query", "endpoint", "redact",
        "unsupported_target", "url_scheme", "url_path", "parse_http_url", "target_kind",
    ],
    "datagen.specs": [
        "DECORATIONS", "UniquePool", "Emitter", "condition_of", "unique_text", "Condition",
        "POSITION_KEYS", "SHARE_KEY", "matches",
    ],
    "datagen.schema": ["FieldFactory", "Compiler", "Runtime", "walk_specs"],
    "datagen.fields": [
        "NULL_TIME", "Batch", "Columns", "constant", "evaluate", "holds", "is_column",
        "item_values", "objects", "python_values", "row_codes", "to_times",
    ],
    "datagen.columns": ["ColumnCompiler", "RowsFactory", "keys_of", "uuids_of"],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(KEPT))
def test_names_stay_importable(module: str) -> None:
    found = importlib.import_module(module)
    assert [name for name in KEPT[module] if not hasattr(found, name)] == []


def test_any_fields_module_brings_every_spec_s_column() -> None:
    """Importing one module of datagen.fields loads the package: every evaluate is registered."""
    code = (
        "from datagen.fields.batch import evaluate, is_column\n"
        "from datagen.specs import Key, Spec, Cases\n"
        "print(evaluate.dispatch(Key) is not evaluate.dispatch(Spec),"
        " is_column.dispatch(Cases) is not is_column.dispatch(Spec))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["True", "True"], result.stderr
