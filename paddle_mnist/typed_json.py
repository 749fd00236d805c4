"""JSON files the toolkit writes, read back into typed dataclasses and checked.

Sidecars and export descriptions are plain JSON that a user can open, edit
or damage. `build` turns a parsed file into its dataclass, checking every
field's type (nested dataclasses, lists, Optional, dicts of a type), so a bad
file is one line naming the file and the field, never a KeyError later.
"""

import dataclasses
import math
import typing

MAX_DEPTH = 16  # our files nest 4 levels; deeper JSON is not one of ours


class Problem(ValueError):
    """A field that does not fit the schema: `where` names it, str() says how."""

    def __init__(self, where, message):
        super().__init__(f"field '{where}' {message}")
        self.where = where


def check_depth(data, depth=0):
    if depth > MAX_DEPTH:
        raise Problem("(top level)", f"nests deeper than {MAX_DEPTH} levels")
    children = data.values() if isinstance(data, dict) else data if isinstance(data, list) else ()
    for child in children:
        check_depth(child, depth + 1)


def build(cls, data, where=""):
    """`cls(**data)` with every field checked against its annotation; raises Problem."""
    if not isinstance(data, dict):
        raise Problem(where.rstrip(".") or "(top level)",
                      f"must be an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known), key=str)
    if unknown:
        raise Problem(where + str(unknown[0]), "is not a known field")
    values = {}
    for name, spec in known.items():
        if name in data:
            values[name] = _value(data[name], hints[name], where + name)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise Problem(where + name, "is missing")
    return cls(**values)


def _value(value, kind, where):
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union:  # Optional[X]
        return None if value is None else _value(value, args[0], where)
    if dataclasses.is_dataclass(kind):
        return build(kind, value, where + ".")
    if origin is list:
        if not isinstance(value, list):
            raise Problem(where, f"must be a list, got {type(value).__name__}")
        return [_value(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict or kind is dict:
        if not isinstance(value, dict):
            raise Problem(where, f"must be an object, got {type(value).__name__}")
        if args:
            return {key: _value(item, args[1], f"{where}.{key}") for key, item in value.items()}
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise Problem(where, f"must be {kind.__name__}, got {type(value).__name__}")
    if kind is float and not math.isfinite(value):
        raise Problem(where, f"is {value}")
    return value
