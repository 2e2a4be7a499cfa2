"""YAML with line numbers, read safely, and checked against a JSON Schema.

PyYAML parses a file into mappings and lists that remember the line of every
key and item (:class:`Marked`, :class:`MarkedList`), refusing documents whose
aliases would expand too far; :func:`validate` checks one against
``scenario.schema.json`` (or another schema) and names the line of the first
error. Scenarios, probes and workloads are read this way.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from datagen.errors import InputError
from datagen.scenarios.model import Where

SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")


class Marked(dict):  # type: ignore[type-arg]
    """A YAML mapping that knows its line and the line of each key."""

    line: int = 0
    lines: dict[Any, int]


class MarkedList(list):  # type: ignore[type-arg]
    """A YAML sequence that knows its line and the line of each item."""

    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, building Marked mappings and lists."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Marked:
    loader.flatten_mapping(node)
    result = Marked()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a scalar", key_node.start_mark
            ) from None
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def read_yaml(path: Path, shown: str, *, kind: str = "scenario") -> Marked:
    """Parse ``path`` (a ``kind`` file); a syntax error names ``shown`` and its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no {kind} file {shown!r}") from None
    except IsADirectoryError:
        raise InputError(f"{shown!r} is a folder, not a {kind} file") from None
    except OSError as err:
        raise InputError(f"cannot read {shown!r}: {err.strerror or err}") from None
    try:
        data = _parse(text, shown)
    except RecursionError:
        raise InputError(
            f"invalid YAML: nested more than Python can read (keep it under {MAX_DEPTH} levels)",
            where=shown,
        ) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        problem = err.problem or err.context or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", where=f"{shown}:{line}") from None
    except yaml.YAMLError as err:
        raise InputError(f"invalid YAML: {err}", where=shown) from None
    if data is None:
        data = Marked()
        data.line, data.lines = 1, {}
    if not isinstance(data, Marked):
        keys = "entities:, fields:, …" if kind == "scenario" else "queries:, transactions:, …"
        raise InputError(f"a {kind} file must be a mapping ({keys})", where=shown)
    return data


MAX_NODES = 1_000_000
"""Values a scenario file may hold once its aliases are expanded: the largest shipped
holds a few hundred, a big dev data set tens of thousands; an alias bomb (a few
lines of aliases of aliases) billions."""
MAX_DEPTH = 200


def _parse(text: str, shown: str) -> Any:
    """Compose ``text``, refuse an alias bomb, then construct (with line numbers)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, shown)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, shown: str) -> None:
    """Refuse a document whose aliases expand beyond MAX_NODES values, or nest too deep.

    Counted on the composed nodes (an alias is the node it names, met again),
    each node's expanded size once, before anything is built.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    depth: dict[int, int] = {id(root): 1}
    opened: set[int] = set()  # nodes whose children are being counted
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            opened.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > MAX_NODES:
                line = node.start_mark.line + 1
                raise InputError(
                    f"it holds more than {MAX_NODES:,} values once its aliases are expanded "
                    "(an alias bomb?); "
                    "refused before reading it",
                    where=f"{shown}:{line}",
                )
            continue
        if key in sizes:
            continue
        stack.append((node, True))
        opened.add(key)
        for child in children:
            if id(child) in opened:
                raise InputError(
                    "an alias names a value that holds it (a recursive alias)",
                    where=f"{shown}:{child.start_mark.line + 1}",
                )
            if id(child) not in sizes:
                depth[id(child)] = depth[key] + 1
                if depth[id(child)] > MAX_DEPTH:
                    raise InputError(
                        f"nested more than {MAX_DEPTH} levels deep",
                        where=f"{shown}:{child.start_mark.line + 1}",
                    )
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


@lru_cache(maxsize=1)
def schema_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def line_of(document: Any, path: Iterable[Any]) -> tuple[int, str]:
    """The line of the deepest key of ``path`` found in ``document``, and the dotted key."""
    line = getattr(document, "line", 1)
    node = document
    dotted = ""
    for step in path:
        if isinstance(node, Marked) and step in node:
            line = node.lines.get(step, line)
            dotted = f"{dotted}.{step}" if dotted else str(step)
        elif isinstance(node, MarkedList) and isinstance(step, int) and step < len(node):
            line = node.lines[step]
            dotted = f"{dotted}[{step}]"
        else:
            break
        node = node[step]
    return line, dotted


def validate(document: Marked, shown: str, validator: Draft202012Validator | None = None) -> None:
    """Check ``document`` against a published JSON Schema (the scenario's unless given).

    The first error names its file, line and dotted key.
    """
    error = best_match((validator or schema_validator()).iter_errors(document))
    if error is None:
        return
    path = list(error.absolute_path)
    message = _message(error)
    path, message = unknown_key(error, path, message)
    line, dotted = line_of(document, path)
    if len(message) > MAX_MESSAGE:  # jsonschema quotes the whole value
        message = message[: MAX_MESSAGE - 3] + "..."
    raise Where(shown, line, dotted or "(top)").error(message)


MAX_MESSAGE = 300


def unknown_key(error: ValidationError, path: list[Any], message: str) -> tuple[list[Any], str]:
    """For a key the schema doesn't know: its path and "unknown key; expected one of: …"."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [key for key in error.instance if key not in allowed]
        if extra:
            return [*path, extra[0]], f"unknown key; expected one of: {', '.join(sorted(allowed))}"
    return path, message


def _message(error: ValidationError) -> str:
    if error.validator == "oneOf" and error.context:
        deepest = best_match(error.context)
        if deepest is not None and deepest.validator not in ("type", "oneOf"):
            return _message(deepest)
        return f"{_short(error.instance)} is not valid here ({error.schema.get('description', '')})"
    if error.validator == "not" and "count" in error.instance:
        return "give either 'count' or 'per' (with a distribution), not both"
    if error.validator == "dependentRequired":
        return str(error.message).replace("is a dependency of", "is needed with")
    return str(error.message)


def _short(value: Any) -> str:
    text = repr(value if not isinstance(value, (Marked, MarkedList)) else _plain(value))
    return text if len(text) < 80 else text[:77] + "..."


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
