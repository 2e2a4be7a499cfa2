"""The schema language of document providers, and its row-at-a-time compiler.

A provider's ``create_schema(_)`` returns a template: a dict whose values are
constants, nested dicts and lists, or *specs* made by the field factory ``_``
(:mod:`datagen.specs`):

- ``_("person.email", domains=["example.com"])``: any Mimesis provider method,
  with its arguments, and an optional ``key=`` function as in Mimesis'
  ``Field`` (``key(result)`` or ``key(result, random)``);
- helpers for what Mimesis leaves to the caller: ``_.key()`` (the entity's
  own UUID, derived from seed and index), ``_.ref("org")`` (the key of an
  entity of another provider), ``_.weighted({...})``, ``_.choice([...])``,
  ``_.integer(lo, hi)``, ``_.decimal(lo, hi)``, ``_.timestamp(days=(lo, hi),
  after=...)`` (strictly before the fixed reference date, never ``now()``;
  not before the fields named by ``after``), ``_.uuid()``, ``_.sequence()``,
  ``_.list_of(item, lo, hi)``, ``_.nullable(item, p)``, ``_.call(fn)``
  (``fn(random)``);
- unique values: ``_.unique(item)``, ``_.unique_choice(values)``,
  ``_.code()``, ``_.serial(size)`` (distinct for distinct rows);
- values of other fields: ``_.derive(fn, *paths)`` and ``_.cases([...],
  default)``. Choices are plain values (a spec inside a choice list is not
  evaluated); dict and list choices are copied per document.

Documents are made a shard at a time by :mod:`datagen.columns`. The
:class:`Compiler` here compiles a template into one Python function
``build(i)`` whose body is a dict display calling the bound Mimesis methods
directly, for documents made one at a time (journeys'); fields that read
other fields of the row are set after it, in template order.
"""

from __future__ import annotations

import copy
from datetime import datetime
from graphlib import CycleError, TopologicalSorter
from typing import Any, Callable, Mapping

from mimesis import Generic
from mimesis.locales import Locale
from mimesis.random import Random

from datagen.codes import code_one, field_seed, permuted_one
from datagen.errors import SchemaError
from datagen.field_factory import FieldFactory
from datagen.seeding import REFERENCE_DATE, derive_seed, entity_key
from datagen.specs import (
    POSITION_KEYS,
    SHARE_KEY,
    Call,
    Cases,
    Choice,
    Code,
    Condition,
    Decimal,
    Derive,
    Integer,
    Key,
    ListOf,
    MimesisField,
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
    matches,
)
from datagen.types import DocumentFactory


class Runtime:
    """The seeded random state of one process for one run of one provider.

    ``reseed(shard_seed)`` resets every Mimesis provider in use and the
    helpers' random generator, each from its own derived seed, so that two
    Mimesis providers never replay the same random stream.
    """

    def __init__(self, *, locale: str, run_seed: int, reference_date: datetime = REFERENCE_DATE):
        self.generic = Generic(Locale(locale), seed=0)
        # Create every Mimesis provider now (Generic makes them lazily), so that
        # reseed() reaches them all, whenever a template is compiled.
        self.providers = [getattr(self.generic, name) for name in self.generic.__dir__()]
        self.rnd = Random(0)
        self.run_seed = run_seed
        self.reference_date = reference_date
        self.locale = locale

    def reseed(self, seed: int) -> None:
        self.rnd.seed(derive_seed(seed, "helpers"))
        for provider in self.providers:
            if hasattr(provider, "reseed"):
                provider.reseed(derive_seed(seed, type(provider).__name__))


class Compiler:
    """Turns a template into one ``build(i) -> dict`` function."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        provider: str,
        quantity: int,
        ref_counts: Mapping[str, int] | None = None,
        key_namespace: str | None = None,
    ):
        self.runtime = runtime
        self.key_namespace = key_namespace or provider
        self.rnd = runtime.rnd
        self.reference_date = runtime.reference_date
        self.provider = provider
        self.quantity = quantity
        self.ref_counts = dict(ref_counts or {})
        self.namespace: dict[str, Any] = {}
        self._ids: dict[int, str] = {}
        self._counter = 0
        self._key_functions: dict[str, Callable[[int], str]] = {}
        self.template: Mapping[str, Any] = {}
        self.current_path = ""  # the dotted path of the leaf being compiled
        self._after: list[tuple[str, Spec]] = []  # fields set once the row exists
        self._in_row = False  # compiling a field set after the row: it may read the row

    def fresh_copy(self, values: list[Any], expr: str) -> str:
        """``expr`` picking from ``values``, copied if a value is mutable."""
        if any(isinstance(v, (dict, list)) for v in values):
            return f"{self.bind(copy.deepcopy)}({expr})"
        return expr

    def draw_below(self, count: int) -> str:
        """An expression drawing an int in ``[0, count)``, uniformly (``count`` ≥ 1).

        ``int(random() * count)``: a third of ``randrange``'s cost; its bias,
        under ``count / 2**53``, is far below anything a test data set shows.
        """
        if count > 2**40:
            return f"{self.bind(self.rnd.randrange)}({count})"
        return f"int({self.bind(self.rnd.random)}() * {count})"

    def draw_between(self, low: int, high: int) -> str:
        """An expression drawing an int in ``[low, high]``, both included."""
        if high < low:
            raise SchemaError(f"an integer range needs low <= high, not ({low}, {high})")
        draw = self.draw_below(high - low + 1)
        return draw if low == 0 else f"({low} + {draw})"

    def fresh(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def bind(self, value: Any) -> str:
        """A name in the generated function's namespace bound to ``value``."""
        if value is None or type(value) in (bool, int, str):
            return repr(value)
        ident = id(value)
        if ident not in self._ids:
            name = self.fresh("_v")
            self.namespace[name] = value
            self._ids[ident] = name
        return self._ids[ident]

    def mimesis_method(self, path: str) -> Callable[..., Any]:
        provider_name, _, method_name = path.partition(".")
        try:
            method = getattr(getattr(self.runtime.generic, provider_name), method_name)
        except AttributeError:
            method = None
        if not method_name or not callable(method):
            raise SchemaError(
                f"unknown Mimesis field {path!r}",
                where=f"provider {self.provider!r}",
                hint="use 'provider.method', e.g. 'person.email'",
            )
        return method  # type: ignore[no-any-return]

    def key_function(self, provider: str) -> Callable[[int], str]:
        if provider not in self._key_functions:
            seed = self.runtime.run_seed

            def key_of(index: int) -> str:
                return entity_key(seed, provider, index)

            self._key_functions[provider] = key_of
        return self._key_functions[provider]

    # Unique values: functions of the index ------------------------------------------

    def code_of(self, index: int) -> str:
        """The row's code (:func:`datagen.counters.code`), distinct per row of the table."""
        return code_one(self.code_seed, index)

    @property
    def code_seed(self) -> int:
        return field_seed(self.runtime.run_seed, self.key_namespace, "", "code")

    def permuted_of(self, path: str, size: int) -> Callable[[int], int]:
        seed = field_seed(self.runtime.run_seed, self.key_namespace, path, "serial")

        def permuted(index: int) -> int:
            return permuted_one(seed, index, size)

        return permuted

    def pool_values(self, spec: UniqueChoice) -> list[str]:
        values = spec.values
        return list(values(self.runtime.generic) if callable(values) else values)

    # Fields that read the row -------------------------------------------------------

    def reference_fields(self) -> dict[str, str]:
        return {k: v.provider for k, v in self.template.items() if isinstance(v, Ref)}

    def row_value(self, path: str) -> str | None:
        """An expression reading field ``path`` of the row; None for another row's field."""
        head = path.split(".", 1)[0]
        if head in self.reference_fields():
            return None  # another row: not known when documents are made one at a time
        if not self._in_row:
            raise SchemaError(f"{path!r} is read before the row exists", where=self.where())
        node: Any = self.template
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise SchemaError(f"no field {path!r} to read", where=self.where())
            node = node[part]
        return "row" + "".join(f"[{part!r}]" for part in path.split("."))

    def condition(self, condition: Condition) -> str:
        """A boolean expression: every part of ``condition`` holds for the row."""
        parts = []
        for key, wanted in condition:
            if key == SHARE_KEY:
                parts.append(f"({self.bind(self.rnd.random)}() < {float(wanted)!r})")
            elif key in POSITION_KEYS:
                parts.append("False")  # siblings: only scenarios know them
            else:
                value = self.row_value(key)
                parts.append(f"{self.bind(matches)}({value or 'None'}, {self.bind(wanted)})")
        return "(" + " and ".join(parts) + ")"

    def where(self) -> str:
        return f"provider {self.provider!r}" + (
            f" field {self.current_path!r}" if self.current_path else ""
        )

    # Compiling ------------------------------------------------------------------------

    def expr(self, value: Any, path: str | None = None) -> str:
        if path is not None:
            self.current_path = path
        if isinstance(value, Spec):
            if path is not None and not self._in_row and reads_row(value, self):
                self._after.append((path, value))
                return "None"
            return value.emit(self)
        if isinstance(value, dict):
            prefix = f"{path}." if path else ""
            items = ", ".join(
                f"{k!r}: {self.expr(v, None if path is None else prefix + str(k))}"
                for k, v in value.items()
            )
            return "{" + items + "}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.expr(v) for v in value) + "]"
        if isinstance(value, (str, int, float, bool, type(None))):
            return repr(value)
        return self.bind(value)

    def compile(self, template: Mapping[str, Any]) -> DocumentFactory:
        self.template = template
        self._after = []
        lines = [f"    row = {self.expr(dict(template), '')}"]
        self._in_row = True
        try:
            for path, spec in in_dependency_order(self._after):
                self.current_path = path
                target = "row" + "".join(f"[{part!r}]" for part in path.split("."))
                lines.append(f"    {target} = {spec.emit(self)}")
        finally:
            self._in_row = False
        source = "def build(i):\n" + "\n".join(lines) + "\n    return row\n"
        scope = dict(self.namespace)
        exec(compile(source, f"<schema {self.provider}>", "exec"), scope)
        return scope["build"]  # type: ignore[no-any-return]


def in_dependency_order(fields: list[tuple[str, Spec]]) -> list[tuple[str, Spec]]:
    """The fields set after the row, each after the fields it reads (else in template order)."""
    paths = [path for path, _ in fields]
    graph: dict[str, set[str]] = {}
    for path, spec in fields:
        read = {p for p in paths_read(spec) if p in paths and p != path}
        graph[path] = read
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as err:
        chain = " -> ".join(reversed(err.args[1]))
        raise SchemaError(f"derived fields read each other in a cycle: {chain}") from None
    order: list[str] = []
    while sorter.is_active():  # each round's ready fields in template order: stable
        ready = sorted(sorter.get_ready(), key=paths.index)
        order.extend(ready)
        sorter.done(*ready)
    specs = dict(fields)
    return [(path, specs[path]) for path in order]


def paths_read(spec: Any) -> list[str]:
    """The same-row or other-row paths a spec reads (``after``, ``derive`` and case fields)."""
    if isinstance(spec, Derive):
        found = [a for a in spec.args if isinstance(a, str)]
        return found + [p for a in spec.args if isinstance(a, Spec) for p in paths_read(a)]
    if isinstance(spec, Timestamp):
        return list(spec.after)
    if isinstance(spec, Cases):
        keys = [k for condition, _ in spec.cases for k, _ in condition]
        inner = [p for s in [spec.default, *(s for _, s in spec.cases)] for p in paths_read(s)]
        return [k for k in keys if k not in (SHARE_KEY, *POSITION_KEYS)] + inner
    if isinstance(spec, (Unique, Nullable)):
        return paths_read(spec.item)
    return []


def reads_row(spec: Any, c: Compiler) -> bool:
    """Whether ``spec`` reads other fields of its row (so it is set after the row)."""
    refs = c.reference_fields()

    def same_row(path: str) -> bool:
        return path.split(".", 1)[0] not in refs

    if isinstance(spec, Derive):
        return any(isinstance(a, str) and same_row(a) for a in spec.args) or any(
            reads_row(a, c) for a in spec.args if not isinstance(a, str)
        )
    if isinstance(spec, Timestamp):
        return any(same_row(path) for path in spec.after)
    if isinstance(spec, Cases):
        keys = [key for condition, _ in spec.cases for key, _ in condition]
        return any(k not in (SHARE_KEY, *POSITION_KEYS) and same_row(k) for k in keys) or any(
            reads_row(s, c) for s in [spec.default, *(s for _, s in spec.cases)]
        )
    if isinstance(spec, (Unique, Nullable)):
        return reads_row(spec.item, c)
    return False


def walk_specs(template: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted path, value)`` for every leaf of a template, in order."""
    leaves: list[tuple[str, Any]] = []
    for name, value in template.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            leaves.extend(walk_specs(value, path + "."))
        else:
            leaves.append((path, value))
    return leaves


__all__ = [
    "Call",
    "Cases",
    "Choice",
    "Code",
    "Compiler",
    "Decimal",
    "Derive",
    "FieldFactory",
    "Integer",
    "Key",
    "ListOf",
    "MimesisField",
    "Nullable",
    "Ref",
    "Runtime",
    "Sequence_",
    "Serial",
    "Spec",
    "Timestamp",
    "Unique",
    "UniqueChoice",
    "Uuid",
    "Weighted",
    "walk_specs",
]
