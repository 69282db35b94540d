"""Read one YAML rule file into plain data plus the line and column of every node.

PyYAML's ``SafeLoader`` silently keeps the last of two equal keys; rule authors copy-paste blocks, so
``MarkedLoader`` records duplicate keys (and carries on, so every duplicate is reported at once).
Positions are 1-based and keyed by the path of the node: ``("routes", 3, "keywords", 0)``.
A mapping entry's position is its key's; a list item's is the item's first character.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PathKey = tuple[str | int, ...]
Position = tuple[int, int]


@dataclass(frozen=True)
class Duplicate:
    key: str
    first: Position
    again: Position
    path: PathKey


@dataclass
class ParsedYaml:
    """What a file held: ``data`` (None when unreadable), node positions and what went wrong."""

    data: object
    positions: dict[PathKey, Position] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    syntax_error: tuple[Position, str] | None = None


class _MarkedDict(dict[Any, Any]):
    def __init__(self, start: Position) -> None:
        super().__init__()
        self.start = start
        self.marks: dict[Any, Position] = {}
        self.duplicates: list[tuple[str, Position, Position]] = []


class _MarkedList(list[Any]):
    def __init__(self, start: Position) -> None:
        super().__init__()
        self.start = start
        self.marks: list[Position] = []


def _position(node: Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


class MarkedLoader(yaml.SafeLoader):
    """A ``SafeLoader`` whose mappings and lists remember where each entry was written."""

    def construct_marked_map(self, node: MappingNode) -> Iterator[_MarkedDict]:
        data = _MarkedDict(_position(node))
        yield data
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError as exc:
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain word, not a list or mapping", key_node.start_mark
                ) from exc
            if key in data:
                data.duplicates.append((str(key), data.marks[key], _position(key_node)))
                continue
            data.marks[key] = _position(key_node)
            data[key] = self.construct_object(value_node, deep=False)

    def construct_checked_timestamp(self, node: ScalarNode) -> object:
        """A date that does not exist (``2027-02-30``) stays text, for the schema to report at its
        place, instead of stopping the loader (PyYAML raises a bare ``ValueError`` for it)."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_marked_seq(self, node: SequenceNode) -> Iterator[_MarkedList]:
        data = _MarkedList(_position(node))
        yield data
        for item in node.value:
            data.marks.append(_position(item))
            data.append(self.construct_object(item, deep=False))


MarkedLoader.add_constructor("tag:yaml.org,2002:map", MarkedLoader.construct_marked_map)
MarkedLoader.add_constructor("tag:yaml.org,2002:seq", MarkedLoader.construct_marked_seq)
MarkedLoader.add_constructor("tag:yaml.org,2002:timestamp", MarkedLoader.construct_checked_timestamp)


def parse_yaml(text: str) -> ParsedYaml:
    """Parse ``text``; never raises for bad YAML (the problem is returned instead)."""
    loader = MarkedLoader(text)
    try:
        raw = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return ParsedYaml(data=None, syntax_error=(where, _describe(exc)))
    except yaml.YAMLError as exc:
        return ParsedYaml(data=None, syntax_error=((1, 1), f"could not read YAML: {exc}"))
    finally:
        loader.dispose()
    parsed = ParsedYaml(data=None)
    parsed.positions[()] = raw.start if isinstance(raw, _MarkedDict | _MarkedList) else (1, 1)
    parsed.data = _unmark(raw, (), parsed)
    return parsed


def _describe(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "unreadable YAML"
    context, mark = exc.context, exc.context_mark
    if context and mark is not None and mark is not exc.problem_mark:
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        return f"YAML syntax error: {problem} ({context} that starts at {where})"
    if context:
        return f"YAML syntax error: {problem} ({context})"
    return f"YAML syntax error: {problem}"


def _unmark(value: object, path: PathKey, parsed: ParsedYaml) -> object:
    """Plain dicts and lists again, filling ``parsed.positions`` and ``parsed.duplicates``."""
    if isinstance(value, _MarkedDict):
        for key, first, again in value.duplicates:
            parsed.duplicates.append(Duplicate(key, first, again, (*path, _part(key))))
        plain: dict[object, object] = {}
        for key, item in value.items():
            parsed.positions[(*path, _part(key))] = value.marks[key]
            plain[key] = _unmark(item, (*path, _part(key)), parsed)
        return plain
    if isinstance(value, _MarkedList):
        items: list[object] = []
        for index, item in enumerate(value):
            parsed.positions[(*path, index)] = value.marks[index]
            items.append(_unmark(item, (*path, index), parsed))
        return items
    return value


def position_of(positions: dict[PathKey, Position], path: PathKey) -> Position:
    """Position of ``path``, or of its nearest ancestor that was written (a missing key's mapping)."""
    for end in range(len(path), -1, -1):
        found = positions.get(path[:end])
        if found is not None:
            return found
    return 1, 1


def format_path(path: PathKey) -> str:
    """``("routes", 3, "keywords", 0)`` → ``routes[3].keywords[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _part(key: object) -> str | int:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    return key if isinstance(key, str) else str(key)
