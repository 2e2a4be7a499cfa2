"""A scenario's field overrides, turned into specs of the entity's template.

Every override replaces the spec at its path in the provider's template
before the rows are built, so that the fields derived from it follow (a
``job_run`` forced to ``RUNNING`` has no finish time). The kinds:

- ``value`` (or a bare scalar), ``weighted``, ``choice``, ``mimesis`` (with
  ``args``), ``lookup`` (a record's key by natural key), ``template`` (a
  format string over the row's fields, ``index``, ``n``, ``parent_index``,
  ``<parent>_index`` and ``<reference>.<field>`` of the row it points to);
- ``after``: a time not before the creation of the rows it names (``org``,
  ``[pipeline, engine]``), ``days`` before the reference date at the most;
- ``cases``: the first case whose ``if`` holds (fields of the row, of the
  rows it points to as ``job.status``, ``last``/``first`` among its
  siblings, a random ``share``), else ``else`` (default: the provider's);
- ``count: user``, ``max: job_run.started_at``, ``min: …``: of the row's
  children; ``at_least: {count: user}``: the provider's value, raised to it;
- ``in_order: true``: the provider's values sorted among siblings;
- ``counter: n`` (``index``): the row's place among its parent's children
  (its index in its entity), as a number;
- ``unique: true`` (with ``template``, ``mimesis``, ``choice``, ``weighted``):
  distinct across the table, and declared UNIQUE there.
"""

from __future__ import annotations

import string
from typing import Any, Callable

from datagen.documents import get_provider
from datagen.errors import SchemaError
from datagen.scenarios.entity_plan import EntityPlan
from datagen.scenarios.fields import (
    ChildCount,
    ChildExtreme,
    InOrder,
    ParentIndex,
    Position,
    RowIndex,
)
from datagen.scenarios.model import FieldDef, Where
from datagen.scenarios.plan import Plan
from datagen.specs import (
    POSITION_KEYS,
    SHARE_KEY,
    Cases,
    Choice,
    Derive,
    MimesisField,
    Spec,
    Timestamp,
    Unique,
    UniqueChoice,
    Weighted,
    condition_of,
)

KINDS = (
    "value",
    "weighted",
    "choice",
    "template",
    "mimesis",
    "lookup",
    "after",
    "cases",
    "count",
    "max",
    "min",
    "at_least",
    "in_order",
    "counter",
)
COMPANIONS = {"mimesis": {"args"}, "after": {"days"}, "cases": {"else"}}
UNIQUE_KINDS = ("template", "mimesis", "choice", "weighted")  # those 'unique: true' can go with
DEFAULT_DAYS = (0.0, 3650.0)  # an 'after' time on a field that is not a timestamp


def kind_of(override: dict[str, Any], where: Where) -> str:
    """The one kind an override mapping has (an InputError naming what is wrong)."""
    kinds = [k for k in KINDS if k in override]
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        raise where.error(f"an override takes exactly one of {', '.join(KINDS)} (found: {found})")
    extra = set(override) - {kinds[0], "unique"} - COMPANIONS.get(kinds[0], set())
    if extra:
        raise where.error(f"{', '.join(sorted(extra))} can't go with {kinds[0]!r}")
    if override.get("unique") is True and kinds[0] not in UNIQUE_KINDS:
        raise where.error(
            f"'unique: true' can't go with {kinds[0]!r}",
            hint=f"make it one of {', '.join(UNIQUE_KINDS)}",
        )
    return kinds[0]


class Overrides:
    """Turns the overrides of one entity of a plan into specs."""

    def __init__(self, plan: Plan, entity: EntityPlan):
        self.plan = plan
        self.entity = entity
        self.provider = get_provider(entity.provider)
        self.template = self.provider.template()

    # References by entity or field name --------------------------------------------------

    def reference(self, name: str, where: Where) -> str:
        """The reference field ``name`` means: itself, or the one pointing to entity ``name``."""
        targets = self.entity.references_to()
        if name in targets:
            return name
        fields = [f for f, target in targets.items() if target == name]
        if len(fields) == 1:
            return fields[0]
        if fields:
            raise where.error(f"{name!r} could be any of {', '.join(fields)}: name the field")
        known = ", ".join(sorted({*targets, *targets.values()})) or "none"
        raise where.error(f"{name!r} is not a reference of {self.entity.name!r}; known: {known}")

    def path(self, name: str, where: Where) -> str:
        """A field path of the row (``status``) or of a row it points to (``org.status``)."""
        head, dot, rest = name.partition(".")
        if dot and head not in self.template:
            return f"{self.reference(head, where)}.{rest}"
        if not self._is_field(name):
            raise where.error(f"{self.entity.provider!r} has no field {name!r}")
        return name

    def _is_field(self, path: str) -> bool:
        node: Any = self.template
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    # Overrides to specs ------------------------------------------------------------------

    def spec(self, override: FieldDef, base: Any) -> Any:
        """The spec (or constant) ``override`` puts at its path, over ``base``."""
        return self._spec(override.kind, override.argument, override.options, base, override)

    def _spec(
        self, kind: str, argument: Any, options: dict[str, Any], base: Any, override: FieldDef
    ) -> Any:
        where = override.where
        unique = bool(options.get("unique", False))
        if kind == "value":
            return argument
        if kind == "lookup":
            return self.entity.lookups[override.path]
        if kind == "weighted":
            spec: Spec = Weighted(dict(argument))
            return UniqueChoice(tuple(argument)) if unique else spec
        if kind == "choice":
            return UniqueChoice(tuple(argument)) if unique else Choice(list(argument))
        if kind == "mimesis":
            field = MimesisField(str(argument), dict(options.get("args", {})))
            return Unique(field) if unique else field
        if kind == "template":
            return self._template(str(argument), unique, where)
        if kind == "after":
            names = [argument] if isinstance(argument, str) else list(argument)
            anchors = tuple(self._anchor(str(name), where) for name in names)
            days = options.get("days")
            if days is None:
                days = base.days if isinstance(base, Timestamp) else DEFAULT_DAYS
            return Timestamp(tuple(sorted(days)), anchors)  # type: ignore[arg-type]
        if kind == "cases":
            return self._cases(argument, options, base, override)
        if kind == "count":
            return ChildCount(self._child(str(argument), where))
        if kind in ("max", "min"):
            child, _, path = str(argument).partition(".")
            child = self._child(child, where)
            child_template = get_provider(self.plan.entities[child].provider).template()
            if not path or not _has_path(child_template, path):
                raise where.error(f"{kind}: {argument!r} needs ENTITY.FIELD of a child entity")
            return ChildExtreme(child, path, kind)
        if kind == "at_least":
            inner_kind = kind_of(dict(argument), where)
            inner = self._spec(inner_kind, argument[inner_kind], {}, base, override)
            return Derive(at_least, (base, inner))
        if kind == "counter":
            if argument == "n":
                if self.entity.parent is None:
                    raise where.error(
                        "'counter: n' numbers a parent's children: build it 'per' one"
                    )
                return Position()
            if argument == "index":
                return RowIndex()
            raise where.error(f"'counter' takes n or index, not {argument!r}")
        if kind == "in_order":
            if self.entity.parent is None:
                raise where.error(
                    "'in_order' sorts a row among its siblings: build it 'per' a parent"
                )
            return InOrder(base) if argument else base
        raise where.error(f"unknown override {kind!r}")  # the loader checked: not reached

    def _anchor(self, name: str, where: Where) -> str:
        """An ``after`` anchor: a field of the row, a reference, or ``reference.field``."""
        head = name.split(".", 1)[0]
        if head in self.template and "." not in name and head not in self.entity.references_to():
            return name
        if "." in name:
            return self.path(name, where)
        return self.reference(name, where)

    def _child(self, name: str, where: Where) -> str:
        child = self.plan.entities.get(name)
        if child is None or child.parent != self.entity.name:
            raise where.error(f"{name!r} is not an entity built 'per: {self.entity.name}'")
        return name

    def _cases(
        self, argument: Any, options: dict[str, Any], base: Any, override: FieldDef
    ) -> Cases:
        where = override.where
        cases = []
        for number, case in enumerate(argument):
            when = {self._condition_key(str(k), where): v for k, v in dict(case["if"]).items()}
            try:
                condition = condition_of(when)
            except SchemaError as err:
                raise where.error(f"cases[{number}]: {err.message}") from None
            rest = {k: v for k, v in case.items() if k != "if"}
            cases.append((condition, self._branch(rest, base, override)))
        default = self._branch(options["else"], base, override) if "else" in options else base
        return Cases(tuple(cases), default)

    def _branch(self, value: Any, base: Any, override: FieldDef) -> Any:
        if not isinstance(value, dict):
            return value
        kind = kind_of(value, override.where)
        options = {k: v for k, v in value.items() if k != kind}
        return self._spec(kind, value[kind], options, base, override)

    def _condition_key(self, key: str, where: Where) -> str:
        if key in (SHARE_KEY, *POSITION_KEYS):
            if key in POSITION_KEYS and self.entity.parent is None:
                raise where.error(f"{key!r} is a place among siblings: build it 'per' a parent")
            return key
        return self.path(key, where)

    def _template(self, text: str, unique: bool, where: Where) -> Spec:
        """A template as a derived field of the names it uses."""
        extras: dict[str, Spec] = {"index": RowIndex(), "n": Position()}
        if self.entity.parent is not None:
            extras["parent_index"] = extras[f"{self.entity.parent}_index"] = ParentIndex()
        pieces, names, args = [], [], []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as err:
            raise where.error(f"bad template {text!r}: {err}") from None
        for literal, name, spec, conversion in parsed:
            pieces.append(literal.replace("{", "{{").replace("}", "}}"))
            if name is None:
                continue
            head = name.split(".", 1)[0].split("[", 1)[0]
            if head in extras or head in self.template:
                source: Any = extras.get(head, head)
                attribute = name[len(head) :]
            elif "." in name:
                reference, _, rest = name.partition(".")
                source, attribute = self.path(f"{reference}.{rest}", where), ""
                head = f"{reference}.{rest}"
            else:
                known = ", ".join(sorted({*self.template, *extras}))
                raise where.error(
                    f"template {text!r} uses {{{name}}}, which is not a field; known: {known}"
                )
            if head not in names:
                names.append(head)
                args.append(source)
            slot = f"_{names.index(head)}"
            pieces.append(
                "{"
                + slot
                + attribute
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
        if unique and not _distinct_template(names, self.entity):
            raise where.error(
                f"template {text!r} is not distinct per row",
                hint="use {index}, or {n} with {parent_index} ({parent}_index)",
            )
        return Derive(_filler("".join(pieces), text, where), tuple(args))


def _filler(text: str, shown: str, where: Where) -> Callable[..., str]:
    def fill(*values: Any) -> str:
        try:
            return text.format_map({f"_{n}": value for n, value in enumerate(values)})
        except (KeyError, ValueError, IndexError, AttributeError, TypeError) as err:
            raise where.error(f"bad template {shown!r}: {err}") from None

    return fill


def _distinct_template(names: list[str], entity: EntityPlan) -> bool:
    if "index" in names:
        return True
    parent = entity.parent
    return (
        "n" in names
        and parent is not None
        and bool({"parent_index", f"{parent}_index"} & set(names))
    )


def _has_path(template: dict[str, Any], path: str) -> bool:
    node: Any = template
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def at_least(value: Any, floor: Any) -> Any:
    """``value``, raised to ``floor`` (either may be None)."""
    if value is None:
        return floor
    return value if floor is None else max(value, floor)
