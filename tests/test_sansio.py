"""Request building, without a socket."""

from __future__ import annotations

import pytest

from asyncbyok import (
    InsecureURLError,
    UpdateBYOKKeyRequest,
    ValidationError,
)
from asyncbyok._constants import MAX_PAGE_SIZE
from asyncbyok.sansio import (
    USER_AGENT,
    build_headers,
    build_request,
    check_base_url,
    check_headers,
    key_path,
    list_query,
    merge_headers,
)

KEY_ID = "11111111-2222-3333-4444-555555555555"


def test_headers_carry_auth_agent_and_attribution() -> None:
    headers = build_headers("mk", app_url="https://app.example", app_title="Fleet")
    assert headers["Authorization"] == "Bearer mk"
    assert headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("asyncbyok/")
    assert headers["HTTP-Referer"] == "https://app.example"
    assert headers["X-OpenRouter-Title"] == "Fleet"
    assert "HTTP-Referer" not in build_headers("mk")


def test_request_body_is_compact_json_without_unset_fields() -> None:
    req = build_request(
        "PATCH",
        "https://h/api/v1",
        key_path(KEY_ID),
        {"A": "b"},
        json_body=UpdateBYOKKeyRequest(name=None),
    )
    assert req.url == f"https://h/api/v1/byok/{KEY_ID}"
    assert req.body == b'{"name":null}'
    assert req.headers["Content-Type"] == "application/json"
    assert "Bearer" not in repr(
        build_request("GET", "https://h", "/byok", {"Authorization": "Bearer s"})
    )


def test_path_ids_are_uuids() -> None:
    assert key_path(KEY_ID) == f"/byok/{KEY_ID}"
    assert key_path(KEY_ID.upper()) == f"/byok/{KEY_ID.upper()}"


@pytest.mark.parametrize(
    "key_id", ["", ".", "..", "a/../b?c", "x", KEY_ID + "\n", f" {KEY_ID}", KEY_ID[:-1], None, 7]
)
def test_other_path_ids_are_refused_naming_the_argument(key_id: object) -> None:
    with pytest.raises(ValidationError) as info:
        key_path(key_id)  # type: ignore[arg-type]
    assert info.value.paths == ["key_id"]


def test_list_query_checks_limits() -> None:
    assert list_query(offset=5, limit=MAX_PAGE_SIZE, provider="openai") == {
        "offset": "5",
        "limit": str(MAX_PAGE_SIZE),
        "provider": "openai",
    }
    with pytest.raises(ValidationError) as info:
        list_query(offset=-1, limit=MAX_PAGE_SIZE + 1)
    assert info.value.paths == ["offset", "limit"]
    assert str(MAX_PAGE_SIZE) in str(info.value)


def test_list_query_workspace_is_a_uuid() -> None:
    workspace = "550e8400-e29b-41d4-a716-446655440000"
    assert list_query(workspace_id=workspace)["workspace_id"] == workspace
    for bad in ("x", "", "ws-1", workspace + " ", None):
        with pytest.raises(ValidationError) as info:
            list_query(workspace_id=bad)  # type: ignore[arg-type]
        assert info.value.paths == ["workspace_id"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/api/v1",
        "http://localhost/api/v1",
        "http://[::1]:9/x",
        "https://openrouter.ai/api/v1/",
    ],
)
def test_allowed_base_urls(url: str) -> None:
    assert not check_base_url(url).endswith("/")


def test_plain_http_beyond_loopback_is_refused() -> None:
    with pytest.raises(InsecureURLError, match="plain http"):
        check_base_url("http://openrouter.ai/api/v1")
    assert check_base_url("http://10.0.0.5/api/v1", allow_insecure_http=True)
    with pytest.raises(ValidationError, match="base_url: must start with https://"):
        check_base_url("ftp://x")  # not a matter of plain http: of the scheme


@pytest.mark.parametrize(
    ("headers", "where", "problem"),
    [
        ({"X Bad": "v"}, "extra_headers['X Bad']", "is not a header name"),
        ({"X-Ok": "a\r\nInjected: 1"}, "extra_headers['X-Ok']", "line break"),
        ({"X-Ok": 5}, "extra_headers['X-Ok']", "must be a string, not int"),
        ({"": "v"}, "extra_headers['']", "is not a header name"),
    ],
)
def test_bad_headers_are_refused_naming_the_entry_not_the_value(
    headers: dict[str, object], where: str, problem: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        check_headers(headers, "extra_headers")
    assert caught.value.errors[0].path == where
    assert problem in caught.value.errors[0].message
    assert "Injected" not in str(caught.value)


def test_a_header_named_again_in_any_case_replaces_the_first() -> None:
    headers = build_headers("mk", extra={"authorization": "Bearer other", "X-Team": "a"})
    assert [k for k in headers if k.lower() == "authorization"] == ["authorization"]
    assert merge_headers({"X-Team": "a"}, {"x-team": "b"}) == {"x-team": "b"}
