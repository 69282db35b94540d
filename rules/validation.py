"""Validate one file's data against its model, turning pydantic errors into plain-English findings.

To report *every* problem at once, a file with schema errors is not thrown away: the entries holding
the errors are set aside (``pruned``) and the rest is validated again, so the cross-file checks still
run on everything that is sound. Checks skip references to what was set aside, so one typo gives one
error, not a cascade.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from rules.report import Collector
from rules.schema import RuleModel
from rules.yaml_source import PathKey


@dataclass
class Validated:
    model: RuleModel | None
    pruned: set[PathKey] = field(default_factory=set)
    """Original paths of top-level entries set aside (``("routes", 3)``)."""
    pruned_codes: set[str] = field(default_factory=set)
    """``code`` values (or keys) of entries set aside: references to them are not reported."""
    kept: dict[str, list[int]] = field(default_factory=dict)
    """For each pruned top-level list, the original index of every item kept."""
    partial: set[str] = field(default_factory=set)
    """Top-level collections (``routes``) that lost an entry: coverage checks cannot be trusted."""
    unknowable: set[str] = field(default_factory=set)
    """Top-level collections that lost an entry whose code could not be read: references into
    them cannot be judged."""

    def original(self, path: PathKey) -> PathKey:
        """Map a path in the validated model back to the path in the file."""
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], int):
            kept = self.kept.get(path[0])
            if kept is not None and path[1] < len(kept):
                return (path[0], kept[path[1]], *path[2:])
        return path


def validate(model: type[RuleModel], data: object, file: str, out: Collector) -> Validated:
    """Validate ``data``; every schema problem goes to ``out``; returns the sound part, if any."""
    result = Validated(model=None)
    if data is None:
        out.error(file, (), "the file is empty")
        return result
    current = copy.deepcopy(data)
    first = True
    for _ in range(20):
        try:
            result.model = model.model_validate(current)
            return result
        except ValidationError as exc:
            errors = exc.errors()
        if first:
            for error in errors:
                path, message = _explain(model, error)
                out.error(file, path, message)
            first = False
        if not isinstance(current, dict) or not _prune(model, current, errors, result):
            return result
    return result  # pragma: no cover - every round removes something


def _prune(
    model: type[RuleModel], data: dict[Any, Any], errors: list[ErrorDetails], result: Validated
) -> bool:
    """Set aside the entry of a top-level list or mapping that each error sits in (an unknown key
    alone is just dropped); False when an error is not inside such an entry."""
    removals: dict[str, set[int | str]] = {}
    for error in errors:
        loc = _clean(error["loc"])
        if error["type"] == "extra_forbidden":
            _delete(data, loc)
            continue
        if len(loc) < 2 or not isinstance(loc[0], str) or not _is_collection(model, loc[0]):
            return False
        if not isinstance(data.get(loc[0]), list | dict):
            return False
        removals.setdefault(loc[0], set()).add(loc[1])
    for name, keys in removals.items():
        container = data[name]
        if isinstance(container, dict):
            for key in keys:
                _forget(result, container.pop(key, None), (name, key), key)
            continue
        kept = result.kept.setdefault(name, list(range(len(container))))
        for index in sorted((k for k in keys if isinstance(k, int)), reverse=True):
            if index < len(container):
                _forget(result, container.pop(index), (name, kept.pop(index)), None)
    return True


def _is_collection(model: type[RuleModel], name: str) -> bool:
    info = model.model_fields.get(name)
    return info is not None and typing.get_origin(_unwrap(info.annotation)) in (list, dict)


def _forget(result: Validated, entry: object, path: PathKey, key: object) -> None:
    assert isinstance(path[0], str)
    result.pruned.add(path)
    result.partial.add(path[0])
    codes: list[object] = [key]
    if isinstance(entry, dict):
        permit = entry.get("permit")
        codes += [
            entry.get("code"),
            entry.get("keyword"),
            permit.get("code") if isinstance(permit, dict) else None,
        ]
    named = [code for code in codes if isinstance(code, str)]
    result.pruned_codes.update(named)
    if not named:
        result.unknowable.add(path[0])


def _delete(data: dict[Any, Any], loc: PathKey) -> None:
    node: Any = data
    for part in loc[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict):
        node.pop(loc[-1], None)


def _clean(loc: tuple[int | str, ...]) -> PathKey:
    return tuple(part for part in loc if part != "[key]")


def _explain(model: type[RuleModel], error: ErrorDetails) -> tuple[PathKey, str]:
    """The path and a plain-English message for one pydantic error."""
    loc = _clean(error["loc"])
    kind, value = error["type"], error.get("input")
    is_key = "[key]" in error["loc"]
    if kind == "value_error":
        return loc, str(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "extra_forbidden":
        return loc, _unknown_key(model, loc)
    if kind == "missing":
        return loc[:-1], f"missing required key '{loc[-1]}'"
    shown = "'" + value + "'" if isinstance(value, str) else repr(value)
    if is_key:
        return loc, f"key {shown} must be text"
    messages = {
        "string_type": f"expected text, got {shown}",
        "int_type": f"expected a whole number, got {shown}",
        "bool_type": f"expected true or false, got {shown}",
        "list_type": f"expected a list (lines starting with '- '), got {shown}",
        "dict_type": f"expected keys and values (a mapping), got {shown}",
        "model_type": f"expected keys and values (a mapping), got {shown}",
        "literal_error": f"{shown} is not allowed here: use {error.get('ctx', {}).get('expected', '')}",
    }
    return loc, messages.get(kind, f"{error['msg'][:1].lower()}{error['msg'][1:]}, got {shown}")


def _unknown_key(model: type[RuleModel], loc: PathKey) -> str:
    allowed = _allowed_keys(model, loc[:-1])
    key = str(loc[-1])
    if not allowed:
        return f"unknown key '{key}'"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.7)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key '{key}': {hint}allowed keys are {', '.join(allowed)}"


def _allowed_keys(model: type[BaseModel], loc: PathKey) -> list[str]:
    current: object = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            info = current.model_fields.get(part)
            current = info.annotation if info is not None else None
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return []


def _unwrap(annotation: object) -> object:
    """``X | None`` → ``X``; ``Annotated[X, ...]`` → ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0]
        else:
            return annotation
