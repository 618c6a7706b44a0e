"""Reading a manifest's text into plain data, with the line of every field.

YAML goes through PyYAML's composer, so each field path (``keys[3].allowed_models``) can be
traced back to the line it was written on; PyYAML is imported only here and only for YAML
(it ships with the ``cli`` extra). JSON needs nothing beyond the standard library and gives
paths without lines, except for syntax errors.

Both readers refuse a key given twice in one mapping, which YAML and JSON parsers would
otherwise resolve silently by keeping the last one.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

from ..errors import FieldError, ValidationError

__all__ = ["LineMap", "read_json", "read_yaml"]

_LAST_SEGMENT = re.compile(r"(\.[^.\[]+|\[\d+\])$")


@attrs.frozen
class LineMap:
    """Field path -> 1-based line number; looks paths up by their longest known prefix."""

    lines: dict[str, int] = attrs.field(factory=dict)
    duplicates: list[FieldError] = attrs.field(factory=list)
    """Keys given twice in one mapping (the parser would silently keep the last)."""

    def line(self, path: str) -> int | None:
        """The line of *path*, or of its nearest enclosing field, or ``None``."""
        while True:
            if path in self.lines:
                return self.lines[path]
            shorter = _LAST_SEGMENT.sub("", path)
            if shorter == path:
                return self.lines.get("")
            path = shorter

    def error(self, path: str, message: str) -> FieldError:
        """A field error whose message starts with the line, when it is known."""
        line = self.line(path)
        return FieldError(path, f"line {line}: {message}" if line is not None else message)


def join_path(parent: str, child: str | int) -> str:
    """``keys`` + 3 -> ``keys[3]``; ``keys[3]`` + ``name`` -> ``keys[3].name``."""
    if isinstance(child, int):
        return f"{parent}[{child}]"
    return f"{parent}.{child}" if parent else child


def read_yaml(text: str, *, source: str) -> tuple[Any, LineMap]:
    """The data of one YAML document and the line of every field in it.

    Syntax errors raise :class:`~asyncbyok.ValidationError`; duplicate keys are returned in
    ``LineMap.duplicates``, to be reported with the manifest's other errors.
    """
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ValidationError(
            [FieldError("$", "reading YAML needs PyYAML: pip install 'asyncbyok[cli]'")],
            subject=source,
        ) from exc

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise ValidationError(
            [FieldError("$", f"{where}{problem} (not valid YAML)")], subject=source
        ) from None
    except yaml.YAMLError as exc:
        raise ValidationError([FieldError("$", f"not valid YAML: {exc}")], subject=source) from None
    finally:
        loader.dispose()

    lines = LineMap()
    if node is not None:
        _map_lines(node, "", lines.lines, lines.duplicates)
    return data, lines


def _map_lines(node: Any, path: str, lines: dict[str, int], errors: list[FieldError]) -> None:
    import yaml

    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue  # merge keys (<<: *anchor) are resolved by the constructor
            key, line = key_node.value, key_node.start_mark.line + 1
            child = join_path(path, key)
            if key in first_seen:
                message = f"line {line}: duplicate key (first given on line {first_seen[key]})"
                errors.append(FieldError(child, message))
                continue
            first_seen[key] = line
            lines[child] = line
            _map_lines(value_node, child, lines, errors)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, join_path(path, index), lines, errors)


def read_json(text: str, *, source: str) -> tuple[Any, LineMap]:
    """The data of a JSON document (no line numbers beyond syntax errors)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"duplicate key {key!r}")
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        message = f"line {exc.lineno}: {exc.msg} (not valid JSON)"
        raise ValidationError([FieldError("$", message)], subject=source) from None
    except ValueError as exc:
        raise ValidationError([FieldError("$", str(exc))], subject=source) from None
    return data, LineMap()
