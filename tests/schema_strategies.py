"""Hypothesis strategies for JSON Schema, as the OpenAPI excerpt uses it.

hypothesis-jsonschema would be the tool, but its 0.23.1 cannot generate objects with the
Hypothesis this project uses (``'many' object has no attribute 'more'``). The excerpt uses
a small part of JSON Schema, and this module covers exactly that part: ``$ref``,
``allOf``, ``const``, ``enum``, ``type`` (one or a list), string ``format: uuid``,
``pattern``, ``minLength``/``maxLength``, integer bounds, arrays with ``items`` and
``minItems``/``maxItems``, and objects with ``properties``, ``required`` and
``additionalProperties`` (open unless ``false``). A keyword it does not know fails loudly,
and the tests validate every example against the spec with jsonschema, so the strategies
cannot drift into generating invalid bodies.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

_HANDLED = {
    "$ref",
    "allOf",
    "const",
    "enum",
    "type",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "items",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "additionalProperties",
    # annotations: no effect on what is valid
    "description",
    "example",
    "default",
}

# Any JSON value, kept small: what an unknown field of a newer server might hold.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
# Names of unknown fields: random ones, and names that collide with what decoding adds.
_EXTRA_NAMES = st.one_of(
    st.text(min_size=1, max_size=10),
    st.sampled_from(["extra", "created_at_raw", "undecodable", "next", "rotation"]),
)


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """*schema* with its ``$ref`` and ``allOf`` merged in (properties and required united)."""
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part]
        schema = {**{k: v for k, v in schema.items() if k != "$ref"}, **target}
    for part in schema.get("allOf", ()):
        part = _resolve(part, doc)
        merged = {**schema, **part}
        merged["properties"] = {**schema.get("properties", {}), **part.get("properties", {})}
        merged["required"] = [*schema.get("required", ()), *part.get("required", ())]
        schema = merged
    return {k: v for k, v in schema.items() if k != "allOf"}


def from_schema(schema: dict[str, Any], doc: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against *schema*, whose ``$ref`` point into *doc* (the OpenAPI document)."""
    schema = _resolve(schema, doc)
    unknown = set(schema) - _HANDLED
    assert not unknown, f"keywords this generator does not handle: {unknown}"
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    types = schema.get("type")
    if types is None:
        return json_values
    if isinstance(types, str):
        types = [types]
    return st.one_of([_typed(t, schema, doc) for t in types])


def _typed(kind: str, schema: dict[str, Any], doc: dict[str, Any]) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False)
    if kind == "string":
        return _string(schema)
    if kind == "array":
        items = from_schema(schema.get("items", {}), doc)
        low = schema.get("minItems", 0)
        return st.lists(items, min_size=low, max_size=min(schema.get("maxItems", 4), low + 4))
    if kind == "object":
        return _object(schema, doc)
    raise AssertionError(f"unknown type {kind!r}")


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if schema.get("format") == "uuid":
        return st.uuids().map(str)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 30))


def _object(schema: dict[str, Any], doc: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = st.fixed_dictionaries(
        {k: from_schema(v, doc) for k, v in properties.items() if k in required},
        optional={k: from_schema(v, doc) for k, v in properties.items() if k not in required},
    )
    extra_schema = schema.get("additionalProperties", True)
    if extra_schema is False:
        return fixed
    values = json_values if extra_schema is True else from_schema(extra_schema, doc)
    extras = st.dictionaries(_EXTRA_NAMES.filter(lambda k: k not in properties), values, max_size=3)
    return st.builds(lambda a, b: {**b, **a}, fixed, extras)
