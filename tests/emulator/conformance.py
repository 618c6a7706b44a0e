"""Check an emulator response against the vendored OpenAPI excerpt, with real validators.

A status the excerpt documents for the operation is validated by openapi-core (status,
content type, body schema). The excerpt documents only some statuses per operation (no
429 anywhere, 403 only on POST, no 409 on PATCH, no 404 on the list); for those the body
is validated with jsonschema against the matching ``components/schemas`` entry, and for
statuses with no schema of their own (405, 409, 413) against ``BadRequestResponse``: every
error schema of the excerpt has that same shape. Either way ``error.code`` must equal the
status, which neither validator can express.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.openapi_spec import SPEC_PATH, spec, validator

SERVER = "https://openrouter.ai"  # the excerpt's server is https://openrouter.ai/api/v1
PREFIX = "/api/v1"

ERROR_SCHEMAS = {
    400: "BadRequestResponse",
    401: "UnauthorizedResponse",
    403: "ForbiddenResponse",
    404: "NotFoundResponse",
    429: "TooManyRequestsResponse",
}

Checked = Literal["openapi", "jsonschema"]


@functools.cache
def openapi() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC_PATH))


def spec_path(path: str) -> str | None:
    """The excerpt's path template for a request path, ``None`` when it has none."""
    if path == f"{PREFIX}/byok":
        return "/byok"
    if re.fullmatch(rf"{PREFIX}/byok/[^/]+", path):
        return "/byok/{id}"
    return None


def documented_statuses(method: str, path: str) -> set[int]:
    template = spec_path(path)
    if template is None:
        return set()
    operation = spec()["paths"][template].get(method.lower())
    return {int(s) for s in operation["responses"]} if operation else set()


def error_schema(status: int) -> str:
    if status >= 500:
        return "InternalServerResponse"
    return ERROR_SCHEMAS.get(status, "BadRequestResponse")


def check_response(
    method: str,
    path: str,
    query: Mapping[str, str] | None,
    status: int,
    content_type: str,
    body: bytes,
) -> Checked:
    """Raise if the response does not conform; say which validator was used."""
    assert content_type == "application/json", content_type
    decoded: Any = json.loads(body)
    if status >= 400:
        assert decoded["error"]["code"] == status, decoded
        assert isinstance(decoded["error"]["message"], str), decoded
    if status in documented_statuses(method, path):
        request = MockRequest(SERVER, method.lower(), path, args=dict(query or {}))
        openapi().validate_response(request, MockResponse(body, status))
        return "openapi"
    # Not documented for this operation: the component schema, with jsonschema.
    assert status >= 400, f"undocumented success status {status} for {method} {path}"
    validator(error_schema(status), newest=False).validate(decoded)
    return "jsonschema"
