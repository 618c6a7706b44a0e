"""``client.byok``: create, list, get, update and delete BYOK provider credentials."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .. import sansio
from .._constants import DEFAULT_LIST_CONCURRENCY, MAX_PAGE_SIZE, SAFE_CREATE_CLOCK_SKEW
from .._sentinel import UNSET, Unset
from ..errors import FieldError, NotFoundError, ValidationError
from ..models import (
    BYOKKey,
    BYOKKeyList,
    CreateBYOKKeyRequest,
    DeclaredRegion,
    DeleteResult,
    ProviderSlug,
    UpdateBYOKKeyRequest,
)
from ..pagination import AsyncKeyPager, Page
from ..safe_create import CreateReconciler, is_ambiguous

if TYPE_CHECKING:
    from ..bulk import CreateResult
    from ..client import APIResponse, Client

__all__ = ["BYOKResource", "RawBYOKResource"]


def _build(cls: Any, request: Any, fields: Mapping[str, Any]) -> Any:
    """A request object from either a ready one or keyword arguments, not both."""
    if request is None:
        return cls(**fields)  # UNSET is every optional field's default: same as leaving it out
    given = [k for k, v in fields.items() if v is not UNSET]
    if not isinstance(request, cls):
        raise TypeError(f"expected a {cls.__name__}, not {type(request).__name__}")
    if given:
        raise ValidationError(
            [FieldError(k, f"given twice: as a keyword and in the {cls.__name__}") for k in given],
            subject=cls.__name__,
        )
    return request


class RawBYOKResource:
    """``client.byok.with_raw_response``: the same calls, returning
    :class:`~asyncbyok.client.APIResponse` (status, headers, request id, attempts,
    elapsed time) around the parsed model."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _reconciler(self) -> CreateReconciler:
        shared = self._client._shared
        if shared.reconciler is None:
            shared.reconciler = CreateReconciler(self._list_for_lookup)
        return shared.reconciler

    async def _list_for_lookup(
        self, provider: str, workspace: str | None
    ) -> AsyncIterator[BYOKKey]:
        pager = AsyncKeyPager(
            lambda offset, limit: self._page(
                offset, limit, UNSET if workspace is None else workspace, provider
            ),
            limit=MAX_PAGE_SIZE,
        )
        async for key in pager:
            yield key

    async def create(self, request: CreateBYOKKeyRequest) -> APIResponse[BYOKKey]:
        """``POST /byok`` with the safe-create rule (:mod:`asyncbyok.safe_create`)."""
        reconciler = self._reconciler()
        since = time.time() - SAFE_CREATE_CLOCK_SKEW
        ambiguous = False

        async def before_resend(error: BaseException, failed_at: float) -> BYOKKey | None:
            nonlocal ambiguous
            ambiguous = ambiguous or is_ambiguous(error)
            if not ambiguous:
                return None  # nothing can have been stored: resend as is
            return await reconciler.find(request, since=since, failed_at=failed_at)

        response = await self._client.request(
            "POST", "/byok", BYOKKey, json_body=request, before_resend=before_resend
        )
        reconciler.claimed.add(response.parsed.id)
        return response

    async def get(self, key_id: str) -> APIResponse[BYOKKey]:
        """``GET /byok/{id}``."""
        return await self._client.request("GET", sansio.key_path(key_id), BYOKKey)

    async def update(self, key_id: str, request: UpdateBYOKKeyRequest) -> APIResponse[BYOKKey]:
        """``PATCH /byok/{id}``. Retried like the rest: a PATCH sets fields, so resending
        the same body is harmless."""
        path = sansio.key_path(key_id)
        return await self._client.request("PATCH", path, BYOKKey, json_body=request)

    async def delete(self, key_id: str) -> APIResponse[DeleteResult]:
        """``DELETE /byok/{id}``. If an attempt fails ambiguously, the credential is
        fetched before resending: a 404 then means that attempt deleted it."""
        path = sansio.key_path(key_id)

        async def before_resend(error: BaseException, failed_at: float) -> DeleteResult | None:
            if not is_ambiguous(error):
                return None
            try:
                await self.get(key_id)
            except NotFoundError:
                return DeleteResult(deleted=True)
            return None  # still there: send the delete again

        return await self._client.request("DELETE", path, DeleteResult, before_resend=before_resend)

    async def list_page(
        self,
        *,
        offset: int = 0,
        limit: int = MAX_PAGE_SIZE,
        workspace_id: str | Unset = UNSET,
        provider: ProviderSlug | str | Unset = UNSET,
    ) -> APIResponse[BYOKKeyList]:
        """``GET /byok``: one page, as the server sent it."""
        query = sansio.list_query(
            offset=offset, limit=limit, workspace_id=workspace_id, provider=provider
        )
        return await self._client.request("GET", "/byok", BYOKKeyList, query=query)

    async def _page(
        self, offset: int, limit: int, workspace_id: str | Unset, provider: str | Unset
    ) -> Page:
        response = await self.list_page(
            offset=offset, limit=limit, workspace_id=workspace_id, provider=provider
        )
        body = response.parsed
        return Page(
            data=body.data,
            total_count=body.total_count,
            offset=offset,
            limit=limit,
            request_id=response.request_id,
            fetch=lambda o, n: self._page(o, n, workspace_id, provider),
        )


class BYOKResource:
    """``client.byok``: the BYOK provider credentials of the account."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.with_raw_response = RawBYOKResource(client)

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
    ) -> BYOKKey:
        """Store a provider credential; returns it (the raw key is never returned).

        Pass a :class:`~asyncbyok.models.CreateBYOKKeyRequest`, or its fields as keywords.
        Fields left ``UNSET`` are not sent; ``None`` sends ``null``. Invalid input raises
        :class:`~asyncbyok.errors.ValidationError` before anything is sent. If the outcome
        of an attempt is unknown, the credential is looked up before any resend, so
        retries never make a duplicate (see :mod:`asyncbyok.safe_create`).

        >>> key = await client.byok.create(provider="openai", key=raw, name="prod")
        """
        fields = dict(locals())
        del fields["self"], fields["request"]
        built: CreateBYOKKeyRequest = _build(CreateBYOKKeyRequest, request, fields)
        return (await self.with_raw_response.create(built)).parsed

    async def get(self, key_id: str) -> BYOKKey:
        """One credential by id; :class:`~asyncbyok.errors.NotFoundError` if absent or
        deleted."""
        return (await self.with_raw_response.get(key_id)).parsed

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
    ) -> BYOKKey:
        """Change the fields given, leave the rest; ``None`` clears a nullable field.

        >>> await client.byok.update(key_id, allowed_models=None, disabled=True)

        ``key=`` rotates the raw provider key in place (the server regenerates ``label``).
        """
        fields = dict(locals())
        del fields["self"], fields["request"], fields["key_id"]
        built: UpdateBYOKKeyRequest = _build(UpdateBYOKKeyRequest, request, fields)
        return (await self.with_raw_response.update(key_id, built)).parsed

    async def delete(self, key_id: str) -> bool:
        """Delete a credential (the API soft-deletes it and wipes the key). Returns True."""
        return (await self.with_raw_response.delete(key_id)).parsed.deleted

    async def create_many(
        self,
        requests: Iterable[CreateBYOKKeyRequest],
        *,
        concurrency: int | None = None,
        on_progress: Callable[[CreateResult], Any] | None = None,
    ) -> list[CreateResult]:
        """Create many credentials concurrently: see :func:`asyncbyok.bulk.create_many`."""
        from ..bulk import create_many

        return await create_many(self, requests, concurrency=concurrency, on_progress=on_progress)

    # Last in the class: below this line, "list" names the method, not the builtin.
    def list(
        self,
        *,
        workspace_id: str | Unset = UNSET,
        provider: ProviderSlug | str | Unset = UNSET,
        limit: int = MAX_PAGE_SIZE,
        offset: int = 0,
        concurrency: int = DEFAULT_LIST_CONCURRENCY,
    ) -> AsyncKeyPager:
        """Credentials of a workspace (default: the account's default workspace).

        ``await`` it for the first :class:`~asyncbyok.pagination.Page`; ``async for`` it
        for every key, with up to *concurrency* pages fetched at once::

            page = await client.byok.list(provider="openai")
            async for key in client.byok.list(workspace_id=ws):
                ...
        """
        sansio.list_query(offset=offset, limit=limit, workspace_id=workspace_id, provider=provider)
        raw = self.with_raw_response
        return AsyncKeyPager(
            lambda o, n: raw._page(o, n, workspace_id, provider),
            offset=offset,
            limit=limit,
            concurrency=concurrency,
        )
