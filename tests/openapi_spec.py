"""The vendored OpenAPI excerpt, as JSON Schema validators for the tests."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(__file__).parent / "spec"
SPEC_PATH = SPEC_DIR / "byok.openapi.yaml"
SPEC_URI = "urn:asyncbyok:byok-openapi"

# The four fields the newest API (NOTES.md) adds to BYOKKey and to both request bodies.
NEWEST_FIELDS: dict[str, Any] = {
    "declared_region": {"type": ["string", "null"]},
    "declared_zdr": {"type": ["boolean", "null"]},
    "is_byok_only": {"type": "boolean"},
    "is_required": {"type": "boolean"},
}


@functools.cache
def spec() -> dict[str, Any]:
    with SPEC_PATH.open() as f:
        loaded: dict[str, Any] = yaml.safe_load(f)
    return loaded


@functools.cache
def newest_spec() -> dict[str, Any]:
    """The excerpt plus the newest fields; request bodies closed to unknown fields."""
    doc = copy.deepcopy(spec())
    schemas = doc["components"]["schemas"]
    for name in ("BYOKKey", "CreateBYOKKeyRequest", "UpdateBYOKKeyRequest"):
        schemas[name]["properties"].update(copy.deepcopy(NEWEST_FIELDS))
    for name in ("CreateBYOKKeyRequest", "UpdateBYOKKeyRequest"):
        # Stricter than the excerpt on purpose: the client must send no field it invents.
        schemas[name]["additionalProperties"] = False
    return doc


def validator(schema_name: str, *, newest: bool = True) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<schema_name>``, formats checked."""
    doc = newest_spec() if newest else spec()
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
