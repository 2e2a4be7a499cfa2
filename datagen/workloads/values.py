"""The values of a writer's rows: field generators, key pools and the simulated day.

Generators that providers also have (``integer``, ``decimal``, ``choice``,
``weighted``, ``mimesis``, ``value``) are compiled by the providers' own
template compiler (``datagen.schema``: ``FieldFactory`` specs into one
function), so a workload's ``{mimesis: person.email}`` is the provider's
``_("person.email")``. Keys come from the pools: within one batch run the
pooled values of a row are distinct from every other row's (a sample
without replacement from the product of the pools); stream writers draw
them independently. ``template`` values are formatted last, over the row's
other values and ``run`` and ``n``.

Every random state derives from (seed, writer, unit), a unit being one
batch run or a chunk of stream arrivals: the values are a pure function of
the workload, the seed and the options.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Mapping

import numpy as np

from datagen.errors import InputError, SchemaError
from datagen.schema import Compiler, FieldFactory, Runtime, Spec
from datagen.seeding import REFERENCE_DATE, derive_seed
from datagen.workloads.model import Generator, KeyPool, Workload, WriterDef

Row = dict[str, Any]
DAY = 86400.0
SMALL_POOL = 1 << 16  # pools of at most this many keys have them formatted once
_ = FieldFactory()


def spec_of(generator: Generator) -> Spec | Any:
    """The provider template spec (or constant) of a compiled generator."""
    kind, argument = generator.kind, generator.argument
    if kind == "integer":
        return _.integer(int(argument[0]), int(argument[1]))
    if kind == "decimal":
        return _.decimal(float(argument[0]), float(argument[1]))
    if kind == "choice":
        return _.choice(list(argument))
    if kind == "weighted":
        return _.weighted(dict(argument))
    if kind == "mimesis":
        return _(str(argument), **dict(generator.args))
    return argument  # value: a constant


COMPILED = ("integer", "decimal", "choice", "weighted", "mimesis", "value")


class RowMaker:
    """Builds the rows of one writer's transactions (one instance per process)."""

    def __init__(self, workload: Workload, writer: WriterDef, seed: int) -> None:
        self.writer = writer
        self.seed = seed
        self.pools: list[tuple[str, KeyPool]] = []  # pooled values other than days
        self.days: list[tuple[str, date]] = []
        self.numbers: list[tuple[str, str]] = []
        self.templates: list[tuple[str, str, Generator]] = []
        compiled: dict[str, Any] = {}
        for name, generator in writer.values.items():
            if generator.kind == "key":
                pool = workload.keys[generator.argument]
                if pool.day is not None:
                    self.days.append((name, pool.day))
                else:
                    self.pools.append((name, pool))
            elif generator.kind == "number":
                self.numbers.append((name, generator.argument))
            elif generator.kind == "template":
                self.templates.append((name, generator.argument, generator))
            else:
                compiled[name] = generator
        self.runtime = Runtime(locale="en", run_seed=seed, reference_date=REFERENCE_DATE)
        compiler = Compiler(self.runtime, provider=f"workload:{writer.name}", quantity=1)
        template = {}
        for name, generator in compiled.items():
            try:
                template[name] = spec_of(generator)
                compiler.expr(template[name])  # an unknown Mimesis field fails here, named
            except SchemaError as err:
                raise generator.where.error(err.message, hint=err.hint) from None
        self.build = compiler.compile(template)
        self.space = 1
        for _name, pool in self.pools:
            self.space *= pool.count
        self.pool_names = [name for name, _pool in self.pools]
        self._keys: dict[str, list[str]] = {}  # a small pool's every key, formatted once
        self._day_number: int | None = None  # the simulated day of the last row
        self._day_values: list[tuple[str, date]] = []

    def reseed(self, unit: int) -> None:
        """Start the random state of ``unit`` (a batch run, a chunk of arrivals)."""
        self.runtime.reseed(derive_seed(self.seed, self.writer.name, "values", unit))

    def rng(self, unit: int) -> np.random.Generator:
        return np.random.default_rng(derive_seed(self.seed, self.writer.name, "keys", unit))

    def distinct_keys(self, rng: np.random.Generator, count: int) -> list[tuple[str, ...]]:
        """``count`` distinct combinations of the pooled values (one batch run's)."""
        if not self.pools:
            return [()] * count
        if count > self.space:
            raise InputError(f"{count} distinct keys asked of {self.space}")  # planned earlier
        picks: list[int] = rng.choice(self.space, size=count, replace=False).tolist()
        return [self.decode(pick) for pick in picks]

    def random_keys(self, rng: np.random.Generator, count: int) -> list[tuple[str, ...]]:
        """``count`` independent combinations (stream arrivals)."""
        if not self.pools:
            return [()] * count
        columns = [rng.integers(0, pool.count, size=count) for _name, pool in self.pools]
        keys = []
        for (_name, pool), column in zip(self.pools, columns):
            known = self.pool_keys(pool)
            if known is not None:
                keys.append([known[index] for index in column.tolist()])
            else:
                keys.append([pool.key(index) for index in column.tolist()])
        return list(zip(*keys))

    def pool_keys(self, pool: KeyPool) -> list[str] | None:
        """Every key of ``pool`` (formatted once), if it is small; else None."""
        if pool.count > SMALL_POOL:
            return None
        known = self._keys.get(pool.name)
        if known is None:
            known = self._keys[pool.name] = [pool.key(index) for index in range(pool.count)]
        return known

    def decode(self, pick: int) -> tuple[str, ...]:
        keys = []
        for _name, pool in reversed(self.pools):
            pick, index = divmod(pick, pool.count)
            keys.append(pool.key(index))
        return tuple(reversed(keys))

    def row(self, position: int, run: int, due: float, keys: tuple[str, ...]) -> Row:
        """Row ``position`` (0-based in its transaction) of run ``run``, due at ``due``."""
        if self.days:
            number = int(due // DAY)
            if number != self._day_number:
                self._day_values = [(n, day + timedelta(days=number)) for n, day in self.days]
                self._day_number = number
            row: Row = dict(self._day_values)
        else:
            row = {}
        if keys:
            row.update(zip(self.pool_names, keys))
        row.update(self.build(position))
        if self.numbers:
            for name, which in self.numbers:
                row[name] = run if which == "run" else position
        if not self.templates:
            return row
        for name, text, generator in self.templates:
            try:
                row[name] = text.format_map({"run": run, "n": position + 1, **row})
            except (KeyError, IndexError, ValueError) as err:
                raise generator.where.error(f"template {text!r}: {err}") from None
        return row


def route(row: Mapping[str, Any], names: tuple[str, ...]) -> int:
    """A stable number of a row's key (the same in every process: not ``hash()``)."""
    if not names:
        return 0
    return derive_seed(*(row.get(name) for name in names))
