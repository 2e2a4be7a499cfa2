"""Column fields: the value of a template's field for any set of rows, at once.

A *column* is a field whose value for row ``i`` is a pure function of (run
seed, entity, field, ``i``) and of other columns (of the row, or of the rows
its references point to): keys, references, weighted and plain choices,
integers, decimals, timestamps, codes, and what is derived from those.
:class:`Columns` computes any column of one entity for an array of rows;
numpy draws each from :mod:`datagen.counters`, so no row depends on the rows
drawn before it. Other rows are reached through a :class:`datagen.lineage.Lineage`:
a child's ``created_at`` after its org's is computed from the org's
``created_at`` at the org rows the child points to, without the org rows
being built or held.

Values are numpy arrays: times as ``int64`` microseconds since the epoch
(:data:`NULL_TIME` for none), everything else as ``object`` arrays of the
Python values the documents hold.

The package: :mod:`~datagen.fields.batch` (:class:`Columns`, :class:`Batch`),
:mod:`~datagen.fields.draws` (each spec's column), :mod:`~datagen.fields.kinds`
(which specs are columns), :mod:`~datagen.fields.times` and
:mod:`~datagen.fields.keys` (keys and UUIDs formatted at once).
"""

from datagen.fields import draws, kinds  # each registers its functions on evaluate, is_column
from datagen.fields.batch import (
    Batch,
    Columns,
    Population,
    constant,
    evaluate,
    is_column,
    item_values,
    objects,
    python_values,
    row_codes,
    unwrapped,
)
from datagen.fields.draws import anchor_times, holds, matching
from datagen.fields.keys import keys_of, uuids_of
from datagen.fields.times import NULL_TIME, datetimes, to_micros, to_times

__all__ = [
    "NULL_TIME",
    "Batch",
    "Columns",
    "Population",
    "anchor_times",
    "constant",
    "datetimes",
    "draws",
    "evaluate",
    "holds",
    "is_column",
    "item_values",
    "keys_of",
    "kinds",
    "matching",
    "objects",
    "python_values",
    "row_codes",
    "to_micros",
    "to_times",
    "unwrapped",
    "uuids_of",
]
