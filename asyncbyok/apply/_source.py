"""Reading a manifest's text into plain data, with the line of every field.

YAML goes through PyYAML's composer, so each field path (``keys[3].allowed_models``) can be
traced back to the line it was written on; PyYAML is imported only here and only for YAML
(it ships with the ``cli`` extra). JSON needs nothing beyond the standard library and gives
paths without lines, except for syntax errors.

Both readers refuse a key given twice in one mapping, which YAML and JSON parsers would
otherwise resolve silently by keeping the last one.

Both are bounded, so a hostile or broken file costs little time and memory: at most
:data:`MAX_MANIFEST_BYTES` of text, :data:`MAX_NODES` values (counted with every YAML alias
expanded, so a "billion laughs" file of a few hundred bytes is refused while it is being
read), nesting :data:`MAX_DEPTH` levels deep, and no alias inside the node it names
(``keys: &k [*k]``). Each limit is a :class:`~asyncbyok.ValidationError` naming the line.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import attrs

from ..errors import FieldError, ValidationError

__all__ = ["MAX_DEPTH", "MAX_MANIFEST_BYTES", "MAX_NODES", "LineMap", "read_json", "read_yaml"]

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""The largest manifest read: 4 MiB, some 20,000 entries."""
MAX_NODES = 200_000
"""The most values (mappings, lists, scalars; YAML aliases expanded) a manifest may hold:
about 15,000 entries of a dozen fields."""
MAX_DEPTH = 20
"""The deepest nesting a manifest may have (a real one needs 4: document, ``keys``, an
entry, an allowlist)."""

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

    lines = LineMap()
    try:
        # The reader checks every character as the loader is made: inside the try.
        loader = _bounded_loader()(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem = f"line {line}: unacceptable character #x{char:04x} (not valid YAML)"
        raise ValidationError([FieldError("$", problem)], subject=source) from None
    try:
        node = loader.get_single_node()
        if node is not None:
            # Lines are read from the nodes as written: construction flattens merge keys
            # (``<<: *base``) into each mapping, and their keys are not duplicates.
            _map_lines(node, "", lines.lines, lines.duplicates)
        data = loader.construct_document(node) if node is not None else None
    except _LimitError as exc:
        raise ValidationError([FieldError("$", str(exc))], subject=source) from None
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
        _check_json_size(data)
    except json.JSONDecodeError as exc:
        message = f"line {exc.lineno}: {exc.msg} (not valid JSON)"
        raise ValidationError([FieldError("$", message)], subject=source) from None
    except RecursionError:  # the decoder recurses once per level
        raise ValidationError([FieldError("$", _too_deep())], subject=source) from None
    except (ValueError, _LimitError) as exc:
        raise ValidationError([FieldError("$", str(exc))], subject=source) from None
    return data, LineMap()


class _LimitError(ValueError):
    """The manifest is over one of the limits (the message says which, and where)."""


def _too_deep(line: int | None = None) -> str:
    at = f"line {line}: " if line is not None else ""
    return f"{at}nested more than {MAX_DEPTH} levels deep (the limit for a manifest)"


def _too_many(line: int | None = None) -> str:
    at = f"line {line}: " if line is not None else ""
    return (
        f"{at}more than {MAX_NODES:,} values, YAML aliases expanded (the limit for a "
        "manifest): split it, or write it without aliases that repeat large parts"
    )


def _check_json_size(data: Any) -> None:
    """Count the values of decoded JSON (no aliases there: the text bounds the count,
    but not tightly enough: ``[0,0,...]`` is two bytes a value)."""
    count = 0
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        count += 1
        if count > MAX_NODES:
            raise _LimitError(_too_many())
        if depth > MAX_DEPTH:
            raise _LimitError(_too_deep())
        if isinstance(value, dict):
            pending.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            pending.extend((v, depth + 1) for v in value)


@functools.cache
def _bounded_loader() -> type[Any]:
    """PyYAML's safe loader, counting as it composes (see the module's docstring).

    The composer returns the very node an alias names, so a file of a few hundred bytes
    can stand for a tree of billions of values. Each node's expanded size and depth are
    worked out once, when it is complete; an alias adds its node's, so the check costs
    one step per node written, however much the aliases would expand to.
    """
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.nesting = 0
            self.composed = 0
            self.sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth)

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            line = event.start_mark.line + 1 if event.start_mark else None
            self.composed += 1
            if self.composed > MAX_NODES:
                raise _LimitError(_too_many(line))
            if isinstance(event, yaml.AliasEvent):
                target = self.anchors.get(event.anchor)
                if target is not None and id(target) not in self.sizes:
                    raise _LimitError(
                        f"line {line}: the alias *{event.anchor} is inside the node it "
                        "names (a manifest cannot contain itself)"
                    )
                return super().compose_node(parent, index)
            self.nesting += 1
            if self.nesting > MAX_DEPTH:
                raise _LimitError(_too_deep(line))
            try:
                node = super().compose_node(parent, index)
            finally:
                self.nesting -= 1
            self.sizes[id(node)] = size = self._expanded(node)
            if size[0] > MAX_NODES:
                raise _LimitError(_too_many(line))
            if size[1] > MAX_DEPTH:
                raise _LimitError(_too_deep(line))
            return node

        def _expanded(self, node: Any) -> tuple[int, int]:
            if isinstance(node, yaml.ScalarNode):
                return 1, 1
            children = (
                [c for pair in node.value for c in pair]
                if isinstance(node, yaml.MappingNode)
                else node.value
            )
            sizes = [self.sizes[id(c)] for c in children]
            return 1 + sum(s for s, _ in sizes), 1 + max((d for _, d in sizes), default=0)

    return BoundedLoader
