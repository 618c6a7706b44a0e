"""A Griffe extension that renders asyncbyok's docstrings (reST-flavoured prose) as Markdown.

The docstrings are written for ``help()`` and for reading in an editor: ``double
backticks``, Sphinx roles (``:class:`~asyncbyok.config.Timeout```), literal blocks after a
``::``, ``>>>`` examples and definition lists. mkdocstrings renders Markdown, so this
extension rewrites each docstring once, after the package is loaded:

- a role becomes an autorefs cross-reference to the object's canonical path when the
  object is part of asyncbyok (``mkdocs build --strict`` then fails if it is not
  documented anywhere), and plain code otherwise (``:mod:`pickle```);
- ``::`` blocks and ``>>>`` examples become fenced code blocks (Python, console or text);
- a term followed by an indented definition becomes a Markdown definition list.

It also gives attrs classes the ``__init__`` signature attrs generates at runtime (static
analysis cannot see it), so ``CreateBYOKKeyRequest(*, provider, key, name=UNSET, ...)``
shows in the reference. Likewise a method made by a call in a class body
(``create = _parsed(RawBYOKResource.create)``), which static analysis takes for an
attribute, is documented as the method it is at run time: the parameters of the method it
wraps, with the return type and docstring of its run-time signature. Parameters starting
with ``_`` are private and left out of every signature.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

import griffe

PACKAGE = "asyncbyok"

_ROLES = r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj):"
_ROLE = re.compile(_ROLES + r"`(~?)([^`<]+?)(?:\s*<([^>]+)>)?`")
_DOUBLE = re.compile(r"``(.+?)``")
_BULLET = re.compile(r"^(?:[-*+]|\d+\.)\s")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _language(block: list[str]) -> str:
    """``console`` for shell sessions, ``python`` if it parses, else ``text``."""
    text = "\n".join(block)
    first = block[0].lstrip() if block else ""
    if first.startswith("$ "):
        return "console"
    if first.startswith(">>>"):
        return "pycon"
    try:
        flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        compile(text, "<docstring>", "exec", flags=flags)
    except SyntaxError:
        return "yaml" if _is_yaml(text) else "text"
    return "python"


def _is_yaml(text: str) -> bool:
    """Whether *text* is a YAML mapping (a manifest example), when PyYAML is at hand."""
    try:
        import yaml

        return isinstance(yaml.safe_load(text), dict)
    except Exception:  # no PyYAML, or not YAML
        return False


def _dedent(block: list[str]) -> list[str]:
    margin = min((_indent(line) for line in block if line.strip()), default=0)
    return [line[margin:] for line in block]


def _fence(block: list[str], indent: int, language: str) -> list[str]:
    margin = min((_indent(line) for line in block if line.strip()), default=0)
    pad = " " * indent
    body = [pad + line[margin:] if line.strip() else "" for line in block]
    return [f"{pad}```{language}", *body, f"{pad}```"]


def convert(text: str, link: Callable[[str, str], str]) -> str:
    """*text* (a docstring) as Markdown; ``link(target, title)`` renders a role."""

    def inline(line: str) -> str:
        def role(match: re.Match[str]) -> str:
            short, target, explicit = (
                match.group(1),
                match.group(2).strip(),
                match.group(3),
            )
            if explicit:
                return link(explicit.strip(), target)
            title = target.rsplit(".", 1)[-1] if short else target
            return link(target, title)

        # Roles first: their backticks must not be read as ``double`` ones.
        parts = re.split(rf"({_ROLES}`[^`]+`)", line)
        out = []
        for part in parts:
            if _ROLE.fullmatch(part):
                out.append(_ROLE.sub(role, part))
            else:
                out.append(_DOUBLE.sub(lambda m: f"`{m.group(1)}`", part))
        return "".join(out)

    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        indent = _indent(line)

        if stripped.startswith(">>>"):  # a doctest: up to the next blank line
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            out += _fence(block, indent, "pycon")
            continue

        if stripped.endswith("::"):  # a literal block follows
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines):
                block_indent = _indent(lines[j])
                deeper = block_indent > indent
                block = []
                k = j
                while k < len(lines):
                    candidate = lines[k]
                    if candidate.strip() and (
                        _indent(candidate) < block_indent if deeper else False
                    ):
                        break
                    if not deeper and not candidate.strip():
                        break  # an unindented block (lenient): up to the next blank line
                    block.append(candidate)
                    k += 1
                while block and not block[-1].strip():
                    block.pop()
                head = stripped[:-2].rstrip()
                if head:
                    out.append(" " * indent + inline(head if head.endswith(":") else head + ":"))
                    out.append("")
                out += _fence(block, indent, _language(_dedent(block)))
                out.append("")
                i = k
                continue

        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        is_term = (
            stripped
            and not _BULLET.match(stripped)
            and not stripped.endswith(":")
            and nxt.strip()
            and _indent(nxt) >= indent + 2
            and (i == 0 or not lines[i - 1].strip() or _is_definition_end(lines, i))
            and not _BULLET.match(nxt.strip())
        )
        if is_term:  # "term\n    definition": a definition list entry
            definition = []
            j = i + 1
            while j < len(lines) and lines[j].strip() and _indent(lines[j]) > indent:
                definition.append(lines[j].strip())
                j += 1
            if out and out[-1].strip():
                out.append("")
            out.append(" " * indent + inline(stripped))
            out.append(" " * indent + ":   " + inline(" ".join(definition)))
            out.append("")
            i = j
            continue

        out.append(inline(line))
        i += 1
    return "\n".join(out).strip("\n")


def _is_definition_end(lines: list[str], i: int) -> bool:
    """Whether line *i* directly follows an indented definition (the next entry of a list)."""
    prev = lines[i - 1]
    return _indent(prev) > _indent(lines[i]) and bool(prev.strip())


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if isinstance(member, griffe.Alias):
            continue
        yield from _walk(member)


class ReSTToMarkdown(griffe.Extension):
    """Rewrite every docstring of the package as Markdown (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name != PACKAGE:
            return
        for obj in list(_walk(pkg)):  # first the members run time adds, then every docstring
            if isinstance(obj, griffe.Class):
                _add_attrs_init(obj)
                _add_wrapped_methods(obj, loader)
        for obj in list(_walk(pkg)):
            if isinstance(obj, griffe.Function):
                _hide_private_parameters(obj)
            if obj.docstring is not None:
                obj.docstring.value = convert(obj.docstring.value, _linker(obj, loader))


def _find(loader: griffe.GriffeLoader, path: str) -> griffe.Object | griffe.Alias | None:
    try:
        return loader.modules_collection[path]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _resolve(obj: griffe.Object, loader: griffe.GriffeLoader, name: str) -> str | None:
    """The canonical path of *name* as seen from *obj*, if it is part of the package."""
    candidates = [name]
    head, _, rest = name.partition(".")
    scopes = [obj, *_parents(obj)]
    for scope in scopes:
        try:
            resolved = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError, KeyError):
            continue
        candidates.append(f"{resolved}.{rest}" if rest else resolved)
        break
    for scope in scopes:  # a member of the class or module the docstring belongs to
        candidates.append(f"{scope.path}.{name}")
    for candidate in candidates:
        if not candidate.startswith(PACKAGE):
            continue
        found = _find(loader, candidate)
        if found is None:
            continue
        try:
            target = found.final_target if isinstance(found, griffe.Alias) else found
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        return target.path
    return None


def _parents(obj: griffe.Object) -> Iterator[griffe.Object]:
    parent = obj.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _linker(obj: griffe.Object, loader: griffe.GriffeLoader) -> Callable[[str, str], str]:
    def link(target: str, title: str) -> str:
        path = _resolve(obj, loader, target)
        if path is None:
            return f"`{title}`"
        return f"[`{title}`][{path}]"

    return link


def _hide_private_parameters(func: griffe.Function) -> None:
    """Leave ``_``-prefixed parameters (internal plumbing) out of the signature."""
    if any(p.name.startswith("_") for p in func.parameters):
        kept = [p for p in func.parameters if not p.name.startswith("_")]
        func.parameters = griffe.Parameters(*kept)


def _runtime(obj: griffe.Object) -> Any:
    """The run-time object *obj* describes, or ``None`` when it cannot be imported."""
    try:
        runtime: Any = importlib.import_module(obj.module.path)
        for part in obj.path[len(obj.module.path) + 1 :].split("."):
            runtime = getattr(runtime, part)
    except Exception:  # an optional dependency missing: keep the static view
        return None
    return runtime


def _add_wrapped_methods(cls: griffe.Class, loader: griffe.GriffeLoader) -> None:
    """Document each attribute of *cls* that is a wrapping function at run time as a
    method: the wrapped method's parameters (with their cross-referenced annotations),
    the run-time signature's return type, the run-time docstring."""
    runtime = _runtime(cls)
    if runtime is None:
        return
    for name, member in list(cls.members.items()):
        value = vars(runtime).get(name)
        wrapped = getattr(value, "__wrapped__", None)
        if not isinstance(member, griffe.Attribute) or not inspect.isfunction(value):
            continue
        source = _find(loader, f"{wrapped.__module__}.{wrapped.__qualname__}") if wrapped else None
        if not isinstance(source, griffe.Function):
            continue
        returns = inspect.signature(value).return_annotation
        method = griffe.Function(
            name,
            lineno=member.lineno,
            endlineno=member.endlineno,
            parameters=griffe.Parameters(*source.parameters),
            returns=_annotation(returns, cls),
            docstring=griffe.Docstring(inspect.getdoc(value) or ""),
        )
        method.labels |= source.labels
        cls.set_member(name, method)
        if method.docstring is not None:
            method.docstring.parent = method


def _annotation(annotation: Any, parent: griffe.Class) -> str | griffe.Expr | None:
    """A run-time annotation (a string here) as a griffe expression, for cross-references."""
    if annotation is inspect.Signature.empty:
        return None
    if not isinstance(annotation, str):
        return inspect.formatannotation(annotation)
    node = ast.parse(annotation, mode="eval").body
    return griffe.safe_get_expression(node, parent=parent) or annotation


def _add_attrs_init(cls: griffe.Class) -> None:
    """Give an attrs class the ``__init__`` attrs generates, from the runtime class."""
    if "__init__" in cls.members:
        return
    runtime = _runtime(cls)
    if runtime is None:
        return
    fields = getattr(runtime, "__attrs_attrs__", None)
    if fields is None:
        return
    by_alias = {getattr(f, "alias", f.name): f for f in fields}
    parameters = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
    for name, param in inspect.signature(runtime).parameters.items():
        if name.startswith("_"):
            continue
        field = by_alias.get(name)
        static = cls.members.get(field.name if field else name)
        annotation = getattr(static, "annotation", None) if static is not None else None
        parameters.append(
            griffe.Parameter(
                name,
                annotation=annotation,
                kind=griffe.ParameterKind(param.kind.description),
                default=_default(param, field),
            )
        )
    init = griffe.Function("__init__", parameters=griffe.Parameters(*parameters), returns="None")
    init.labels.add("generated-by-attrs")
    cls.set_member("__init__", init)


def _default(param: inspect.Parameter, field: Any) -> str | None:
    import attrs

    if param.default is inspect.Parameter.empty:
        return None
    default = field.default if field is not None else param.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:
            return "..."
        return repr(default.factory())
    return repr(default)
