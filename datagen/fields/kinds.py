"""Which specs are *columns* (drawn from the row's index): the :func:`is_column` of each."""

from __future__ import annotations

from datagen.fields.batch import Columns, is_column
from datagen.specs import (
    Cases,
    Choice,
    Code,
    Decimal,
    Derive,
    Integer,
    Key,
    Nullable,
    Ref,
    Sequence_,
    Serial,
    Spec,
    Timestamp,
    Unique,
    UniqueChoice,
    Uuid,
    Weighted,
)


@is_column.register(Key)
@is_column.register(Ref)
@is_column.register(Weighted)
@is_column.register(Choice)
@is_column.register(Timestamp)
@is_column.register(Uuid)
@is_column.register(Sequence_)
@is_column.register(Code)
@is_column.register(UniqueChoice)
@is_column.register(Serial)
@is_column.register(Cases)
def _always(spec: Spec, columns: Columns) -> bool:
    return True


@is_column.register
def _integer_column(spec: Integer, columns: Columns) -> bool:
    return isinstance(spec.low, int) and isinstance(spec.high, int)


@is_column.register
def _decimal_column(spec: Decimal, columns: Columns) -> bool:
    return isinstance(spec.precision, int)


@is_column.register(Nullable)
@is_column.register(Unique)
def _inner_column(spec: Nullable | Unique, columns: Columns) -> bool:
    return not isinstance(spec.item, Spec) or is_column(spec.item, columns)


@is_column.register
def _derive_column(spec: Derive, columns: Columns) -> bool:
    for arg in spec.args:
        if isinstance(arg, str):
            if arg.split(".", 1)[0] not in columns.references and not columns.has_column(arg):
                return False
        elif isinstance(arg, Spec) and not is_column(arg, columns):
            return False
    return True
