"""Every kind of response the emulator gives, validated against the vendored excerpt.

The ``api`` helper validates each response it receives (``conformance.py``): statuses the
excerpt documents for the operation with openapi-core, the others with jsonschema against
the component schema. This module drives the emulator through every response kind and
then checks that each documented (operation, status) pair was produced and validated
by openapi-core, so a gap in the coverage fails here rather than going unnoticed.
"""

from __future__ import annotations

from typing import Any

import pytest

from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit

from .conformance import documented_statuses
from .conftest import VALID_KEY, Api

ID = "11111111-2222-3333-4444-555555555555"
TEMPLATES = {"/byok": "/byok", f"/byok/{ID}": "/byok/{id}"}


def template(path: str) -> str:
    return "/byok" if path == "/byok" else "/byok/{id}"


async def produce_everything(emu: Emulator, api: Api) -> None:
    newest = {"declared_region": "us"} if emu.api_version == "newest" else {}
    a = await api.create(name="a", allowed_api_key_hashes=["a" * 64], **newest)
    b = await api.create(provider="anthropic", workspace_id=ID)
    # 2xx of every operation
    await api.list()
    await api.list(workspace_id=ID, provider="anthropic", limit=1, offset=0)
    await api.get(a["id"])
    await api.update(a["id"], key="sk-rotated-0000WxYz", name=None, disabled=True)
    await api.delete(b["id"])
    # 400s
    await api.list(limit=0)
    await api.call("POST", "/byok", json={"provider": "nope", "key": ""})
    await api.call("POST", "/byok", data=b"x", headers={"Content-Type": "application/json"})
    await api.update(a["id"], name=5)
    # 401 and 403 on every operation
    for method, path in (
        ("GET", "/byok"),
        ("POST", "/byok"),
        ("GET", f"/byok/{a['id']}"),
        ("PATCH", f"/byok/{a['id']}"),
        ("DELETE", f"/byok/{a['id']}"),
    ):
        body: dict[str, Any] = {"json": {"name": "x"}} if method in ("POST", "PATCH") else {}
        await api.call(method, path, auth=None, **body)
        await api.call(method, path, auth=f"Bearer {emu.api_key}", **body)
    # 404s
    await api.get(b["id"])
    await api.update(b["id"], name="x")
    await api.delete(b["id"])
    await api.call("GET", "/byok/a/b")
    # 405 and 409
    await api.call("PUT", "/byok")
    emu.faults = Faults({"update": FaultConfig(conflict_rate=1.0)})
    await api.update(a["id"], name="x")
    # 500, 502, 503 on every operation
    for status in (500, 502, 503):
        emu.faults = Faults.everywhere(error_rate=1.0, error_statuses=(status,))
        await api.list()
        await api.call("POST", "/byok", json={"provider": "openai", "key": VALID_KEY})
        await api.get(a["id"])
        await api.update(a["id"], name="x")
        await api.delete(a["id"])
    emu.faults = Faults.everywhere(commit_then_error_rate=1.0)
    await api.update(a["id"], name="y")
    emu.faults = None
    # 429
    emu.rate_limit = RateLimit(rate=0.001, burst=1)
    await api.list()
    await api.list()


async def test_every_response_conforms(emu: Emulator, api: Api) -> None:
    await produce_everything(emu, api)
    assert emu.stats.unexpected_errors == 0
    validated = {(m, template(p), s, how) for m, p, s, how in api.checked}
    by_openapi = {(m, t, s) for m, t, s, how in validated if how == "openapi"}
    for method, path in (
        ("GET", "/byok"),
        ("POST", "/byok"),
        ("GET", f"/byok/{ID}"),
        ("PATCH", f"/byok/{ID}"),
        ("DELETE", f"/byok/{ID}"),
    ):
        for status in documented_statuses(method, "/api/v1" + path):
            assert (method, TEMPLATES[path], status) in by_openapi, (method, path, status)
    by_jsonschema = {s for _, _, s, how in validated if how == "jsonschema"}
    assert {403, 404, 405, 409, 429, 502, 503} <= by_jsonschema
    # The excerpt documents 403 only on POST; 404 never on the collection.
    assert ("POST", "/byok", 403) in by_openapi
    assert ("GET", "/byok/{id}", 403) not in by_openapi


@pytest.mark.parametrize("emulator_kwargs", [{"api_version": "excerpt"}])
async def test_excerpt_age_conforms_too(emu: Emulator, api: Api) -> None:
    await produce_everything(emu, api)
    assert {s for *_, s, how in api.checked if how == "openapi"} == {
        200,
        201,
        400,
        401,
        403,
        404,
        500,
    }


async def test_a_nonconforming_body_would_be_caught() -> None:
    # The checker is not a rubber stamp: a BYOKKey without its required fields fails.
    from openapi_core.validation.response.exceptions import InvalidData

    from .conformance import check_response

    with pytest.raises(InvalidData):
        check_response("GET", f"/api/v1/byok/{ID}", None, 200, "application/json", b'{"data": {}}')
    body = b'{"error": {"code": 400, "message": "x"}}'  # code differs from the status
    with pytest.raises(AssertionError):
        check_response("GET", f"/api/v1/byok/{ID}", None, 404, "application/json", body)
