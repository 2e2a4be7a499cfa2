"""Parameters drawn for each execution, reproducible by seed, whatever the clients.

Execution ``i`` of a query (or transaction) at a scale gets the values of
block ``i // BLOCK``, position ``i % BLOCK``; each block of each parameter
draws from a random state derived from (seed, probe, item, parameter, scale,
block). Which client runs execution ``i`` does not change what it gets, so
the same seed gives the same parameter values on every run.

``{pick: ENTITY.FIELD}`` picks rows of the population without asking the
database which rows there are: the planned population says how many rows
the entity has, and a row's key is ``entity_key(seed, ENTITY, index)``
(records first, keeping a key a record gives itself). A pick of the key is
computed so; a pick of another field reads that field of a pool of
``POOL`` rows drawn so, once, by key, before anything is timed (and says so
if the database does not hold the seed's population).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Generic, Mapping, Protocol, TypeVar

import numpy as np
from mimesis import Generic as Mimesis
from mimesis.locales import Locale

from datagen.errors import InputError
from datagen.probes.database import Session
from datagen.probes.model import ParamDef
from datagen.scenarios.distributions import Distribution
from datagen.scenarios.planning import EntityPlan, Plan
from datagen.seeding import derive_seed, entity_key
from datagen.tablespec import TableSpec

BLOCK = 1024
POOL = 1024
KEY_TABLE = 65_536  # rows of an entity whose keys are all computed before a run (6 MB at most)
_KEPT_BLOCKS = 8


class Source(Protocol):
    def block(self, index: int) -> list[Any]:
        """The values of executions ``[index * BLOCK, (index + 1) * BLOCK)``."""


@dataclass(frozen=True)
class Draw:
    """Where a parameter's random states come from."""

    seed: int
    probe: str
    item: str
    name: str
    scale: float

    def rng(self, *more: object) -> np.random.Generator:
        parts = (self.seed, "probe", self.probe, self.item, self.name, f"{self.scale:g}", *more)
        return np.random.default_rng(derive_seed(*parts))


class Constant:
    def __init__(self, value: Any) -> None:
        self.values = [value] * BLOCK

    def block(self, index: int) -> list[Any]:
        return self.values


class Choice:
    def __init__(self, options: list[Any], draw: Draw) -> None:
        self.options, self.draw = options, draw

    def block(self, index: int) -> list[Any]:
        picks = self.draw.rng(index).integers(0, len(self.options), BLOCK)
        return [self.options[i] for i in picks.tolist()]


class Counts:
    """Integers from a scenario distribution (``{distribution: {type: poisson, lam: 3}}``)."""

    def __init__(self, distribution: Distribution, draw: Draw) -> None:
        self.distribution, self.draw = distribution, draw

    def block(self, index: int) -> list[Any]:
        return list(self.distribution.sample(self.draw.rng(index), BLOCK).tolist())


class Uuids:
    """A UUID per execution, derived from the seed (new rows' keys)."""

    def __init__(self, draw: Draw) -> None:
        self.namespace = f"probe:{draw.probe}:{draw.item}:{draw.name}:{draw.scale:g}"
        self.seed = draw.seed

    def block(self, index: int) -> list[Any]:
        start = index * BLOCK
        return [entity_key(self.seed, self.namespace, i) for i in range(start, start + BLOCK)]


class MimesisValues:
    """A Mimesis field (``{mimesis: person.email, args: {...}}``), seeded per block."""

    def __init__(self, field_path: str, args: Mapping[str, Any], draw: Draw, locale: str) -> None:
        self.field_path, self.args, self.draw, self.locale = field_path, dict(args), draw, locale

    def block(self, index: int) -> list[Any]:
        seed = int(self.draw.rng(index).integers(0, 2**63))
        generic = Mimesis(Locale(self.locale), seed=seed)
        provider, _, method = self.field_path.partition(".")
        call: Callable[..., Any] = getattr(getattr(generic, provider), method)
        return [call(**self.args) for _ in range(BLOCK)]


class Keys:
    """Keys of rows of an entity, uniformly: computed, never queried.

    An entity of up to ``KEY_TABLE`` rows has every row's key computed once,
    here, before anything is timed: a block is then 1,024 list lookups (0.2 ms
    of CPU) where computing its keys took 1.1 ms (5 under load), all of it
    holding the GIL the clients share, so a client making the next block
    during a run (past the blocks made ahead, or with ``--duration``) held up
    the others' replies for that long.
    """

    def __init__(self, keys: Callable[[int], Any], total: int, draw: Draw) -> None:
        self.keys, self.total, self.draw = keys, total, draw
        self.table = [keys(row) for row in range(total)] if total <= KEY_TABLE else None

    def block(self, index: int) -> list[Any]:
        rows = self.draw.rng(index).integers(0, self.total, BLOCK).tolist()
        if self.table is not None:
            table = self.table
            return [table[row] for row in rows]
        return [self.keys(row) for row in rows]


class Pool:
    """A field of rows of an entity: a pool of rows read once by key, then drawn from."""

    def __init__(self, values: list[Any], draw: Draw) -> None:
        self.values, self.draw = values, draw

    def block(self, index: int) -> list[Any]:
        picks = self.draw.rng(index).integers(0, len(self.values), BLOCK)
        return [self.values[i] for i in picks.tolist()]


T = TypeVar("T")


class Blocks(Generic[T]):
    """Blocks of ``BLOCK`` items made by ``make(number)`` on first use, the last
    ``_KEPT_BLOCKS`` kept; the clients' threads share it (each block made once)."""

    def __init__(self, make: Callable[[int], list[T]]) -> None:
        self._make = make
        self._kept: dict[int, list[T]] = {}
        self._lock = threading.Lock()

    def get(self, number: int) -> list[T]:
        block = self._kept.get(number)
        if block is None:
            with self._lock:
                block = self._kept.get(number)
                if block is None:
                    block = self._make(number)
                    if len(self._kept) >= _KEPT_BLOCKS:
                        self._kept.pop(min(self._kept))
                    self._kept[number] = block
        return block


class Parameters:
    """The parameter values of each execution of one query or transaction at one scale."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.sources = dict(sources)
        self._blocks: Blocks[dict[str, Any]] = Blocks(self._make)

    def values(self, execution: int) -> dict[str, Any]:
        """``name -> value`` of execution ``execution`` (0-based)."""
        number, position = divmod(execution, BLOCK)
        return self._blocks.get(number)[position]

    def _make(self, number: int) -> list[dict[str, Any]]:
        columns = {name: source.block(number) for name, source in self.sources.items()}
        return [{name: column[i] for name, column in columns.items()} for i in range(BLOCK)]

    def arguments(self, names: tuple[str, ...], encode: Callable[[Any], Any]) -> Arguments:
        """The argument tuples of a statement whose parameters are ``names``, in order."""
        return Arguments(self, names, encode)


class Arguments:
    """Execution ``i``'s argument tuple, made a block at a time (the least work per query)."""

    def __init__(
        self, params: Parameters, names: tuple[str, ...], encode: Callable[[Any], Any]
    ) -> None:
        self.params, self.names, self.encode = params, names, encode
        self._blocks: Blocks[tuple[Any, ...]] = Blocks(self._make)

    def get(self, execution: int) -> tuple[Any, ...]:
        number, position = divmod(execution, BLOCK)
        return self._blocks.get(number)[position]

    def block(self, number: int) -> list[tuple[Any, ...]]:
        """The argument tuples of executions ``[number * BLOCK, (number + 1) * BLOCK)``."""
        return self._blocks.get(number)

    def warm(self, executions: int | None) -> None:
        """Make the blocks of the first ``executions`` (as many as are kept) ahead of time."""
        blocks = _KEPT_BLOCKS if executions is None else -(-executions // BLOCK)
        for number in range(min(blocks, _KEPT_BLOCKS)):
            self.get(number * BLOCK)

    def _make(self, number: int) -> list[tuple[Any, ...]]:
        sources, encode = self.params.sources, self.encode
        columns = {name: [encode(v) for v in sources[name].block(number)] for name in self.names}
        return list(zip(*(columns[name] for name in self.names)))


def bind(
    params: Mapping[str, ParamDef],
    *,
    plan: Plan,
    probe: str,
    item: str,
    session: Session | None,
) -> Parameters:
    """The Parameters of ``item`` for ``plan`` (its seed and scale).

    ``session`` reads the pools of picks of fields other than the key; InputError
    names the parameter if it picks from an entity the scenario doesn't build.
    """
    sources: dict[str, Source] = {}
    for name, param in params.items():
        draw = Draw(plan.seed, probe, item, name, plan.scale)
        if param.kind == "value":
            sources[name] = Constant(param.argument)
        elif param.kind == "choice":
            sources[name] = Choice(list(param.argument), draw)
        elif param.kind == "distribution":
            sources[name] = Counts(param.argument, draw)
        elif param.kind == "uuid":
            sources[name] = Uuids(draw)
        elif param.kind == "mimesis":
            sources[name] = MimesisValues(str(param.argument), param.args, draw, plan.locale)
        else:
            sources[name] = _pick(param, plan, draw, session)
    return Parameters(sources)


def check_pick(param: ParamDef, plan: Plan) -> tuple[EntityPlan, TableSpec]:
    """The entity and table a pick draws from; InputError naming the parameter if none."""
    entity = plan.entities.get(param.entity)
    if entity is None:
        known = ", ".join(plan.entities)
        raise param.where.error(
            f"picks from {param.entity!r}, which scenario {plan.scenario.name!r} does not build; "
            f"its entities: {known}"
        )
    table = plan.table_of(param.entity)
    columns = [column.name for column in table.columns]
    if param.field not in columns:
        raise param.where.error(
            f"table {table.name!r} (of {param.entity!r}) has no column {param.field!r}; "
            f"its columns: {', '.join(columns)}"
        )
    if entity.total == 0:
        raise param.where.error(
            f"{param.entity!r} has no rows at --scale {plan.scale:g}: there is nothing to pick"
        )
    return entity, table


def _pick(param: ParamDef, plan: Plan, draw: Draw, session: Session | None) -> Source:
    entity, table = check_pick(param, plan)
    keys = key_function(plan, entity, table.key)
    if param.field == table.key:
        return Keys(keys, entity.total, draw)
    rows = draw.rng("pool").integers(0, entity.total, min(POOL, entity.total * 4)).tolist()
    wanted = [keys(row) for row in rows]
    if session is None:
        raise InputError(f"{param.where}: a pick of {param.argument!r} needs the database")
    found = session.fetch_by_keys(table.name, table.key, param.field, sorted(set(wanted)))
    missing = len(set(wanted) - set(found))
    if missing:
        raise param.where.error(
            f"{missing:,} of the {len(set(wanted)):,} {param.entity!r} rows picked are not in "
            f"table {table.name!r}: the database does not hold {plan.scenario.name!r} with seed "
            f"{plan.seed} at --scale {plan.scale:g}",
            hint="populate it (leave out --no-populate), or give the --seed and --scales it was "
            "populated with",
        )
    return Pool([found[key] for key in wanted], draw)


def key_function(plan: Plan, entity: EntityPlan, key: str) -> Callable[[int], Any]:
    """The key of row ``index`` of ``entity``: a record's own, else from (seed, entity, index)."""
    given = {i: record[key] for i, record in enumerate(entity.records) if key in record}
    seed, name = plan.seed, entity.name

    def key_of(index: int) -> Any:
        if index in given:
            return given[index]
        return entity_key(seed, name, index)

    return key_of
