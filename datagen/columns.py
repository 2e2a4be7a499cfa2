"""Templates compiled a shard at a time: column fields drawn for all rows at once.

``document`` and ``populate`` build rows a shard (1,000 rows) at a time.
:class:`ColumnCompiler` compiles a template into ``build_rows(start, stop)``:
first every *column* field (keys, references, weighted choices, integers,
timestamps, codes, what is derived from those: :mod:`datagen.fields`) for
all the rows at once, from the rows' indices; then one dict display per row
that takes those values and calls what stays per row (Mimesis fields,
``_.call``, ``_.list_of``), as :class:`datagen.schema.Compiler` does; then
the fields derived from per-row fields, in template order; then the
provider's ``finalize``.

A column's value for a row never depends on other rows, and the per-row
fields are drawn in row order from the shard's random state (the caller
reseeds it), so any prefix of a shard is the same whoever builds it.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Mapping

import numpy as np

from datagen.errors import SchemaError
from datagen.fields import Batch, Columns, evaluate, is_column, item_values, python_values
from datagen.fields.keys import keys_of, uuids_of  # formatted at once; importable from here
from datagen.schema import Compiler, in_dependency_order, reads_row
from datagen.specs import Derive, Spec, Unique, unique_text
from datagen.types import Document

_NO_ROWS = np.zeros(0, dtype=np.int64)
RowsFactory = Callable[[int, int], list[Document]]
"""``build_rows(start, stop)``: the documents at indices ``[start, stop)``."""


class ColumnCompiler(Compiler):
    """Turns a template into one ``build_rows(start, stop)`` function over ``columns``."""

    def __init__(self, *args: Any, columns: Columns, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns = columns
        self.slots: list[str] = []  # the path of each column a row takes
        self._slot_of: dict[str, str] = {}
        self._inner: dict[str, Spec] = {}  # slot path -> a derived field's argument spec
        self._per_row = 0  # > 0 inside a spec drawn per row (its parts too)

    def slot(self, path: str) -> str:
        """The name a row's value of column ``path`` has in the generated loop."""
        if path not in self._slot_of:
            self._slot_of[path] = f"v{len(self.slots)}"
            self.slots.append(path)
        return self._slot_of[path]

    def expr(self, value: Any, path: str | None = None) -> str:
        if path is not None:
            self.current_path = path
        if not isinstance(value, Spec) or self._per_row or path is None:
            return super().expr(value, path)
        if is_column(value, self.columns):
            evaluate(value, Batch(self.columns, _NO_ROWS), path)  # checks it (empty choices…)
            return self.slot(path)
        if value.transparent:
            return self.expr(value.item, path)  # type: ignore[attr-defined]
        if isinstance(value, Derive):
            if not self._in_row:
                self._after.append((path, value))
                return "None"
            return self._derived(value)
        if reads_row(value, self):
            raise SchemaError(
                f"{value.describe()} reads other fields, but its own value is drawn row by row",
                where=self.where(),
                hint="only _.derive may mix per-row fields with others",
            )
        self._per_row += 1
        try:
            if isinstance(value, Unique):  # a per-row value made distinct by the row's code
                return f"{self.bind(unique_text)}({super().expr(value.item)}, {self.slot('#code')})"
            return value.emit(self)
        finally:
            self._per_row -= 1

    def _derived(self, spec: Derive) -> str:
        """``spec``'s function of fields of the built row, of other rows (columns) and specs."""
        args = []
        for n, arg in enumerate(spec.args):
            if isinstance(arg, str):
                head = arg.split(".", 1)[0]
                args.append(self.slot(arg) if head in self.columns.references else self.row(arg))
            elif isinstance(arg, Spec) and is_column(arg, self.columns):
                inner = f"{self.current_path}/{n}"
                self._inner[inner] = arg
                args.append(self.slot(inner))
            else:
                args.append(super().expr(arg))
        return f"{self.bind(spec.function)}({', '.join(args)})"

    @staticmethod
    def row(path: str) -> str:
        return "row" + "".join(f"[{part!r}]" for part in path.split("."))

    def compile_rows(
        self,
        template: Mapping[str, Any],
        finalize: Callable[[Document, Any], None] | None = None,
        given: Callable[[int], Mapping[str, Any]] | None = None,
    ) -> RowsFactory:
        """``build_rows`` of ``template``; ``finalize(row, rnd)`` runs as each row is built.

        ``given(i)`` are top-level values row ``i`` keeps (a scenario's
        record): set over the drawn ones, and never derived again.
        """
        self.template = template
        self._after = []
        display = self.expr(dict(template), "")
        lines = [f"        row = {display}"]
        if given is not None:
            lines.append(f"        g = {self.bind(given)}(i)")
            lines.append(f"        if g: row.update({self.bind(copy.deepcopy)}(g))")
        self._in_row = True
        try:
            for path, spec in in_dependency_order(self._after):
                self.current_path = path
                assert isinstance(spec, Derive)
                keep = f"if {path.split('.')[0]!r} not in g: " if given is not None else ""
                lines.append(f"        {keep}{self.row(path)} = {self._derived(spec)}")
        finally:
            self._in_row = False
        if finalize is not None:
            lines.append(f"        {self.bind(finalize)}(row, {self.bind(self.rnd)})")
        names = "".join(f", {self._slot_of[path]}" for path in self.slots)
        loop_columns = self.bind(self._columns_of)
        source = (
            "def build_rows(start, stop):\n"
            "    rows = []\n"
            "    append = rows.append\n"
            f"    for (i{names}) in zip(range(start, stop), *{loop_columns}(start, stop)):\n"
            + "\n".join(lines)
            + "\n        append(row)\n"
            "    return rows\n"
        )
        scope = dict(self.namespace)
        exec(compile(source, f"<columns {self.provider}>", "exec"), scope)
        return scope["build_rows"]  # type: ignore[no-any-return]

    def _columns_of(self, start: int, stop: int) -> list[list[Any]]:
        """The values of every slot for rows ``[start, stop)``, as Python lists."""
        shard_batch = getattr(self.columns, "batch_of", None)  # a scenario's: shards kept
        if shard_batch is not None:
            batch = shard_batch(start, stop)
        else:
            batch = Batch(self.columns, np.arange(start, stop, dtype=np.int64))
        result = []
        for path in self.slots:
            if path == "#code":
                from datagen.fields import row_codes

                result.append(row_codes(batch))
                continue
            inner = self._inner.get(path)
            if inner is None:
                result.append(batch.python(path))
            else:  # a derived field's argument, drawn where the column engine draws it
                result.append(python_values(item_values(inner, batch, path), batch))
        return result


__all__ = ["ColumnCompiler", "RowsFactory", "keys_of", "uuids_of"]
