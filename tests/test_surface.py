"""The public surface: raw and plain methods mirror each other; signatures follow the models."""

from __future__ import annotations

import inspect
import pydoc

import pytest

from asyncbyok import Client, CreateBYOKKeyRequest, UpdateBYOKKeyRequest
from asyncbyok.models import request_fields
from asyncbyok.resources._signatures import CALL_OPTIONS
from asyncbyok.resources.byok import BYOKResource, RawBYOKResource

PUBLIC = sorted(
    name
    for name in dir(BYOKResource)
    if not name.startswith("_") and callable(getattr(BYOKResource, name))
)


def test_the_plain_and_raw_resources_offer_the_same_methods() -> None:
    raw = sorted(
        name
        for name in dir(RawBYOKResource)
        if not name.startswith("_") and callable(getattr(RawBYOKResource, name))
    )
    assert raw == PUBLIC
    assert {"create", "get", "update", "delete", "list", "list_page", "create_many", "ensure"} <= (
        set(PUBLIC)
    )


@pytest.mark.parametrize("name", PUBLIC)
def test_raw_methods_take_the_same_arguments_as_the_plain_ones(name: str) -> None:
    plain = inspect.signature(getattr(BYOKResource, name))
    raw = inspect.signature(getattr(RawBYOKResource, name))
    assert list(plain.parameters.values()) == list(raw.parameters.values())


@pytest.mark.parametrize(
    ("method", "model"),
    [("create", CreateBYOKKeyRequest), ("update", UpdateBYOKKeyRequest)],
)
def test_keyword_arguments_are_the_models_fields(method: str, model: type) -> None:
    keywords = {
        p.name: p
        for p in inspect.signature(getattr(BYOKResource, method)).parameters.values()
        if p.kind is p.KEYWORD_ONLY
    }
    fields = {f.name: f for f in request_fields(model)}
    assert keywords.keys() == fields.keys() | CALL_OPTIONS
    for name, field in fields.items():  # nullable fields accept None, and only those
        annotation = str(keywords[name].annotation)
        assert ("None" in annotation) == field.nullable, (name, annotation)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_method_takes_the_call_options(name: str) -> None:
    for resource in (BYOKResource, RawBYOKResource):
        parameters = inspect.signature(getattr(resource, name)).parameters
        assert parameters.keys() >= CALL_OPTIONS, (resource.__name__, name)
        for option in CALL_OPTIONS:
            assert parameters[option].kind is inspect.Parameter.KEYWORD_ONLY


async def test_unknown_keywords_are_refused_by_name(client: Client) -> None:
    with pytest.raises(TypeError, match="colour"):
        await client.byok.create(provider="openai", key="sk-proj-xyz-AbCd1234", colour="red")  # type: ignore[call-arg]


# The plain methods made from raw ones by ``_parsed``: what they return, at run time.
PARSED = {
    "create": "BYOKKey",
    "get": "BYOKKey",
    "update": "BYOKKey",
    "list_page": "BYOKKeyList",
    "create_many": "list[CreateResult]",
    "ensure": "EnsureResult",
    "ensure_many": "list[EnsureOutcome]",
    "get_by_name": "BYOKKey",
    "find_by_key": "KeyMatches",
}


@pytest.mark.parametrize(("name", "returns"), PARSED.items())
def test_plain_methods_show_what_they_return_at_run_time(name: str, returns: str) -> None:
    client = Client(api_key="k", base_url="http://127.0.0.1:1/api/v1")
    bound = getattr(client.byok, name)
    assert inspect.signature(bound).return_annotation == returns  # was APIResponse[...]
    raw = inspect.signature(getattr(client.byok.with_raw_response, name))
    assert raw.return_annotation == f"APIResponse[{returns}]"
    assert bound.__qualname__ == f"BYOKResource.{name}"
    assert f"Returns ``{returns}``" in (bound.__doc__ or "")
    shown = pydoc.render_doc(bound, renderer=pydoc.plaintext)
    assert f"-> '{returns}'" in shown
    assert "APIResponse[" not in shown.split("\n\n", 2)[1]  # the signature line of help()
