"""Response decoding, without a socket (recorded payloads)."""

from __future__ import annotations

import json

import pytest

from asyncbyok import (
    APIResponseValidationError,
    BYOKKey,
    BYOKKeyList,
    DeleteResult,
    NotFoundError,
)
from asyncbyok.response import decode_response

from .test_codec import NEWEST, OLDEST


def test_decode_envelopes() -> None:
    key = decode_response(200, {}, json.dumps({"data": NEWEST}).encode(), BYOKKey, envelope=True)
    assert key.id == NEWEST["id"]
    wrapped = json.dumps({"data": NEWEST}).encode()
    assert decode_response(200, {}, wrapped, BYOKKey, envelope=True) == key
    assert decode_response(200, {}, json.dumps(NEWEST).encode(), BYOKKey, envelope=False) == key
    with pytest.raises(APIResponseValidationError, match="data"):
        decode_response(200, {}, b'{"deleted": true}', DeleteResult, envelope=True)
    page = decode_response(
        200,
        {},
        json.dumps({"data": [OLDEST], "total_count": 1}).encode(),
        BYOKKeyList,
        envelope=False,
    )
    assert page.total_count == 1
    assert decode_response(200, {}, b'{"deleted": true}', DeleteResult, envelope=False).deleted


def test_decode_errors_and_bad_bodies() -> None:
    with pytest.raises(NotFoundError) as info:
        decode_response(
            404,
            {"x-request-id": "r9"},
            b'{"error":{"code":404,"message":"gone"}}',
            BYOKKey,
            envelope=True,
        )
    assert info.value.request_id == "r9"
    with pytest.raises(APIResponseValidationError, match="data"):
        decode_response(200, {}, json.dumps(NEWEST).encode(), BYOKKey, envelope=True)
    with pytest.raises(APIResponseValidationError, match=r"\$\.disabled"):
        decode_response(
            200,
            {},
            json.dumps({"data": {**NEWEST, "disabled": "no"}}).encode(),
            BYOKKey,
            envelope=True,
        )
    with pytest.raises(APIResponseValidationError):
        decode_response(200, {}, b"<html>", BYOKKeyList, envelope=False)
