"""``client.byok``: create, list, get, update, delete and ensure BYOK provider credentials.

:class:`RawBYOKResource` (``client.byok.with_raw_response``) holds the calls, each
returning an :class:`~asyncbyok.response.APIResponse`; :class:`BYOKResource` offers the
same methods, with the same arguments, returning the parsed result. The API's five calls
are here; those made of many requests (``create_many``, ``ensure``, ``ensure_many``,
``get_by_name``, ``find_by_key``) are in :mod:`~asyncbyok.resources._many`.

The keyword arguments of ``create`` and ``update`` are the fields of
:class:`~asyncbyok.models.CreateBYOKKeyRequest` and
:class:`~asyncbyok.models.UpdateBYOKKeyRequest` (see
:func:`~asyncbyok.resources._signatures.takes_fields`).

Every method also takes the options of that one call: ``timeout=`` (a
:class:`~asyncbyok.config.Timeout` or seconds), ``max_retries=`` and ``extra_headers=``
(sent with each of its requests, after the client's). The call then runs on a copy of
the client with them, as ``client.with_options(...)`` makes: it shares the client's
session, pace and budgets::

    key = await client.byok.get(key_id, timeout=5, max_retries=0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .. import sansio
from .._constants import DEFAULT_LIST_CONCURRENCY, MAX_PAGE_SIZE
from .._sentinel import UNSET, Unset
from ..config import Timeout
from ..errors import FieldError, ValidationError
from ..listings import scope_of
from ..models import (
    BYOKKey,
    CreateBYOKKeyRequest,
    DeclaredRegion,
    DeleteResult,
    ProviderSlug,
    UpdateBYOKKeyRequest,
)
from ..pagination import AsyncKeyPager, Page, only_named
from ..response import APIResponse
from ..safe_create import SafeCreate, SafeDelete
from ._base import check_pager_arguments, found_of, page_of
from ._many import ManyCalls
from ._signatures import parsed, takes_fields

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["BYOKResource", "RawBYOKResource"]


class RawBYOKResource(ManyCalls):
    """``client.byok.with_raw_response``: the calls of ``client.byok``, with the same
    arguments, returning :class:`~asyncbyok.response.APIResponse` (status, headers,
    request id, attempts, elapsed time) around the parsed result."""

    @takes_fields(CreateBYOKKeyRequest, skip=1)
    async def create(
        self,
        request: CreateBYOKKeyRequest | None = None,
        /,
        *,
        provider: ProviderSlug | str | Unset = UNSET,
        key: str | Unset = UNSET,
        name: str | None | Unset = UNSET,
        allowed_models: list[str] | None | Unset = UNSET,
        allowed_user_ids: list[str] | None | Unset = UNSET,
        allowed_api_key_hashes: list[str] | None | Unset = UNSET,
        disabled: bool | Unset = UNSET,
        is_fallback: bool | Unset = UNSET,
        workspace_id: str | Unset = UNSET,
        declared_region: DeclaredRegion | str | None | Unset = UNSET,
        declared_zdr: bool | None | Unset = UNSET,
        is_byok_only: bool | Unset = UNSET,
        is_required: bool | Unset = UNSET,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[BYOKKey]:
        """``POST /byok``, with the safe-create rule (:mod:`asyncbyok.safe_create`).

        Pass a :class:`~asyncbyok.models.CreateBYOKKeyRequest`, or its fields as keywords.
        Fields left ``UNSET`` are not sent; ``None`` sends ``null``. Invalid input raises
        :class:`~asyncbyok.errors.ValidationError` before anything is sent. If the outcome
        of an attempt is unknown, the credential is looked up before any resend, so
        retries never make a duplicate (see :mod:`asyncbyok.safe_create`)::

            key = await client.byok.create(provider="openai", key=raw, name="prod")
        """
        assert request is not None  # built by takes_fields
        raw = self._options(timeout, max_retries, extra_headers)
        shared = raw._client._shared
        url = raw._client.base_url + "/byok"
        safe = SafeCreate(request, shared.claims, shared.listings, raw._scope, "POST", url)
        response = await raw._client.request(
            "POST",
            "/byok",
            BYOKKey,
            json_body=request,
            envelope=True,
            reconcile=safe,
            redact=(request.key,),  # a server quoting it back must not get it into an error
        )
        if not response.recovered:
            shared.claims.add(response.parsed.id)
        if shared.listings.active:
            scope = scope_of(request.provider, request.workspace_id)
            shared.listings.created(scope, found_of(response))
        return response

    async def get(
        self,
        key_id: str,
        *,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[BYOKKey]:
        """``GET /byok/{id}``: one credential; :class:`~asyncbyok.errors.NotFoundError` if
        absent or deleted. *key_id* must be a UUID."""
        path = sansio.key_path(key_id)
        client = self._client._for_call(timeout, max_retries, extra_headers)
        return await client.request("GET", path, BYOKKey, envelope=True)

    @takes_fields(UpdateBYOKKeyRequest, skip=2)
    async def update(
        self,
        key_id: str,
        request: UpdateBYOKKeyRequest | None = None,
        /,
        *,
        key: str | Unset = UNSET,
        name: str | None | Unset = UNSET,
        allowed_models: list[str] | None | Unset = UNSET,
        allowed_user_ids: list[str] | None | Unset = UNSET,
        allowed_api_key_hashes: list[str] | None | Unset = UNSET,
        disabled: bool | Unset = UNSET,
        is_fallback: bool | Unset = UNSET,
        declared_region: DeclaredRegion | str | None | Unset = UNSET,
        declared_zdr: bool | None | Unset = UNSET,
        is_byok_only: bool | Unset = UNSET,
        is_required: bool | Unset = UNSET,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[BYOKKey]:
        """``PATCH /byok/{id}``: change the fields given, leave the rest; ``None`` clears a
        nullable field; ``key=`` rotates the raw provider key in place (the server
        regenerates ``label``). A call that gives no field raises
        :class:`~asyncbyok.errors.ValidationError` before anything is sent. Retried like
        the rest: a PATCH sets fields, so resending the same body is harmless::

            await client.byok.update(key_id, allowed_models=None, disabled=True)
        """
        assert request is not None  # built by takes_fields
        path = sansio.key_path(key_id)
        if request.is_empty():  # a PATCH that changes nothing is a mistake of the caller's
            problem = "gives no field to change: pass at least one (None clears a field)"
            raise ValidationError([FieldError("request", problem)], subject="update")
        rotated = (request.key,) if isinstance(request.key, str) else ()
        client = self._client._for_call(timeout, max_retries, extra_headers)
        response = await client.request(
            "PATCH", path, BYOKKey, json_body=request, envelope=True, redact=rotated
        )
        listings = self._client._shared.listings
        if listings.active:
            listings.updated(found_of(response))
        return response

    async def delete(
        self,
        key_id: str,
        *,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[DeleteResult]:
        """``DELETE /byok/{id}`` (the API soft-deletes it and wipes the key).

        If an attempt fails ambiguously, the delete is sent again (a DELETE is idempotent),
        and a 404 to the resend means that attempt deleted it: the call succeeds.
        """
        path = sansio.key_path(key_id)
        safe = SafeDelete("DELETE", self._client.base_url + path)
        client = self._client._for_call(timeout, max_retries, extra_headers)
        response = await client.request("DELETE", path, DeleteResult, reconcile=safe)
        self._client._shared.listings.deleted(key_id)
        return response

    # Last in the class: below this line, "list" names the method, not the builtin.
    async def list(
        self,
        *,
        workspace_id: str | Unset = UNSET,
        provider: ProviderSlug | str | Unset = UNSET,
        name: str | Unset = UNSET,
        limit: int = MAX_PAGE_SIZE,
        offset: int = 0,
        concurrency: int = DEFAULT_LIST_CONCURRENCY,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[Page]:
        """The first :class:`~asyncbyok.pagination.Page` of ``client.byok.list(...)``,
        with the facts of its response; ``page.next_page()`` fetches the next. With
        *name*, pages hold only the credentials of that exact name (filtered here)."""
        check_pager_arguments(concurrency, name)
        raw = self._options(timeout, max_retries, extra_headers)
        response = await raw.list_page(
            offset=offset, limit=limit, workspace_id=workspace_id, provider=provider
        )
        page = page_of(response, offset, limit, raw._fetcher(workspace_id, provider))
        if name is not UNSET:
            page = only_named(page, name)
        return APIResponse(
            page,
            response.status,
            response.headers,
            response.request_id,
            response.attempts,
            response.elapsed,
            response.method,
            response.url,
        )


class BYOKResource:
    """``client.byok``: the BYOK provider credentials of the account.

    Every method has a twin on ``with_raw_response`` that takes the same arguments
    and returns the :class:`~asyncbyok.response.APIResponse` around the result.
    """

    def __init__(self, client: Client) -> None:
        self.with_raw_response = RawBYOKResource(client)

    create = parsed(RawBYOKResource.create)
    get = parsed(RawBYOKResource.get)
    update = parsed(RawBYOKResource.update)
    list_page = parsed(RawBYOKResource.list_page)
    create_many = parsed(RawBYOKResource.create_many)
    ensure = parsed(RawBYOKResource.ensure)
    ensure_many = parsed(RawBYOKResource.ensure_many)
    get_by_name = parsed(RawBYOKResource.get_by_name)
    find_by_key = parsed(RawBYOKResource.find_by_key)

    async def delete(
        self,
        key_id: str,
        *,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> bool:
        """Delete a credential (the API soft-deletes it and wipes the key). Returns True;
        see :meth:`RawBYOKResource.delete` for what happens when an attempt is lost."""
        raw = self.with_raw_response
        response = await raw.delete(
            key_id, timeout=timeout, max_retries=max_retries, extra_headers=extra_headers
        )
        return response.parsed.deleted

    # Last in the class: below this line, "list" names the method, not the builtin.
    def list(
        self,
        *,
        workspace_id: str | Unset = UNSET,
        provider: ProviderSlug | str | Unset = UNSET,
        name: str | Unset = UNSET,
        limit: int = MAX_PAGE_SIZE,
        offset: int = 0,
        concurrency: int = DEFAULT_LIST_CONCURRENCY,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AsyncKeyPager:
        """Credentials of a workspace (default: the account's default workspace).

        ``await`` it for the first :class:`~asyncbyok.pagination.Page`; ``async for`` it
        for every key, with up to *concurrency* pages fetched at once::

            page = await client.byok.list(provider="openai")
            async for key in client.byok.list(workspace_id=ws):
                ...

        *name* keeps only the credentials named exactly so (case and spaces count). The
        API has no filter by name, so it is applied here, to every page as it arrives:
        the same requests are sent, and ``async for`` yields only the matches. A page
        keeps the server's ``total_count`` and offsets (those left out count in its
        ``filtered_out``), so an awaited page may hold no match while a later one does:
        iterate to see them all, or use :meth:`get_by_name` for the one credential of a
        name.

        Arguments are checked at once, before anything is sent.
        """
        sansio.list_query(offset=offset, limit=limit, workspace_id=workspace_id, provider=provider)
        check_pager_arguments(concurrency, name)
        raw = self.with_raw_response._options(timeout, max_retries, extra_headers)
        return AsyncKeyPager(
            raw._fetcher(workspace_id, provider),
            offset=offset,
            limit=limit,
            concurrency=concurrency,
            name=None if name is UNSET else name,
        )
