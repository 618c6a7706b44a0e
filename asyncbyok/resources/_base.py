"""What every call of ``client.byok.with_raw_response`` stands on: the client, one
call's options, a page of the listing, and a scope listed whole (for lookups).

:class:`ResourceBase` is the base of :class:`~asyncbyok.resources.byok.RawBYOKResource`;
the calls themselves are in :mod:`~asyncbyok.resources.byok` (the API's five) and
:mod:`~asyncbyok.resources._many` (those made of many requests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from .. import names, sansio
from .._constants import MAX_PAGE_SIZE
from .._sentinel import UNSET, Unset
from ..config import Timeout
from ..ensure import _Shared as EnsureShared
from ..errors import FieldError, ValidationError
from ..listings import Found, Scope
from ..models import BYOKKey, BYOKKeyList, ProviderSlug, UndecodableItem
from ..pagination import AsyncKeyPager, Page
from ..response import APIResponse

if TYPE_CHECKING:
    from ..client import Client
    from .byok import RawBYOKResource

__all__ = ["ResourceBase"]


class ResourceBase:
    """The client a resource calls through, and what its calls share."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _options(
        self,
        timeout: Timeout | float | None | Unset,
        max_retries: int | Unset,
        extra_headers: Mapping[str, str] | None,
    ) -> RawBYOKResource:
        """The raw resource to make one call with: this client's, or, given call
        options, that of a copy of the client with them (it shares this one's session,
        pace and budgets, as ``with_options`` copies do)."""
        client = self._client._for_call(timeout, max_retries, extra_headers)
        return client.byok.with_raw_response

    async def list_page(
        self,
        *,
        offset: int = 0,
        limit: int = MAX_PAGE_SIZE,
        workspace_id: str | Unset = UNSET,
        provider: ProviderSlug | str | Unset = UNSET,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[BYOKKeyList]:
        """``GET /byok``: one page, as the server sent it."""
        query = sansio.list_query(
            offset=offset, limit=limit, workspace_id=workspace_id, provider=provider
        )
        client = self._client._for_call(timeout, max_retries, extra_headers)
        return await client.request("GET", "/byok", BYOKKeyList, query=query)

    def _fetcher(
        self, workspace_id: str | Unset, provider: ProviderSlug | str | Unset
    ) -> Callable[[int, int], Awaitable[Page]]:
        async def fetch(offset: int, limit: int) -> Page:
            response = await self.list_page(
                offset=offset, limit=limit, workspace_id=workspace_id, provider=provider
            )
            return page_of(response, offset, limit, fetch)

        return fetch

    async def _scope(self, scope: Scope) -> AsyncIterator[Found | UndecodableItem]:
        """Every credential of a scope, with its page's response facts (for lookups), and
        the items of it that could not be read."""
        provider, workspace = scope
        facts: dict[str | None, APIResponse[BYOKKeyList]] = {}

        async def fetch(offset: int, limit: int) -> Page:
            response = await self.list_page(
                offset=offset,
                limit=limit,
                provider=UNSET if provider is None else provider,
                workspace_id=UNSET if workspace is None else workspace,
            )
            facts[response.request_id] = response
            return page_of(response, offset, limit, fetch)

        async for page in AsyncKeyPager(fetch, limit=MAX_PAGE_SIZE).pages():
            response = facts[page.request_id]
            for key in page.data:
                yield Found(key, response.status, response.headers, response.request_id)
            for item in page.undecodable:
                yield item

    def _ensure_shared(self) -> EnsureShared:
        shared = self._client._shared
        return EnsureShared(shared.pending, shared.listings, self._scope)


def page_of(
    response: APIResponse[BYOKKeyList],
    offset: int,
    limit: int,
    fetch: Callable[[int, int], Awaitable[Page]],
) -> Page:
    """The :class:`~asyncbyok.pagination.Page` a list response holds."""
    body = response.parsed
    return Page(
        data=body.data,
        total_count=body.total_count,
        offset=offset,
        limit=limit,
        request_id=response.request_id,
        undecodable=body.undecodable,
        fetch=fetch,
    )


def found_of(response: APIResponse[BYOKKey]) -> Found:
    """A credential an answer holds, with that answer's facts (for the listings)."""
    return Found(response.parsed, response.status, response.headers, response.request_id)


def check_max_age(max_age: object) -> None:
    if (
        not isinstance(max_age, (int, float))
        or isinstance(max_age, bool)
        or not 0 <= max_age < float("inf")
    ):
        raise ValidationError([FieldError("max_age", "must be a number of seconds >= 0")])


def check_pager_arguments(concurrency: object, name: object) -> None:
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise ValidationError([FieldError("concurrency", "must be an integer >= 1")])
    errors = [] if name is UNSET else names.check_name(name)
    if errors:
        raise ValidationError(errors, subject="list")
