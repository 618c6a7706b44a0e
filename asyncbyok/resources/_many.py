"""The calls of ``client.byok`` made of many requests: ``create_many``, ``ensure``,
``ensure_many``, ``get_by_name`` and ``find_by_key``.

They list scopes through the client's shared listings (:mod:`asyncbyok.listings`) and
pace their writes like a bulk run (:func:`~asyncbyok.bulk.bulk_policy`). The call options
(``timeout=``, ``max_retries=``, ``extra_headers=``) apply to each request they send.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .. import leaks, names
from .._constants import DEFAULT_BULK_CONCURRENCY
from .._sentinel import UNSET, Unset
from ..bulk import CreateResult, bulk_policy, create_many
from ..config import Timeout
from ..ensure import EnsureOutcome, EnsureResult, EnsureSpec, check, check_many, ensure, ensure_many
from ..ensure import _Shared as EnsureShared
from ..leaks import KeyMatches
from ..models import BYOKKey, CreateBYOKKeyRequest, DeclaredRegion, ProviderSlug
from ..response import APIResponse
from ._base import ResourceBase, check_max_age

if TYPE_CHECKING:
    import asyncio

    from .byok import RawBYOKResource

__all__ = ["ManyCalls"]

R = TypeVar("R")


class ManyCalls(ResourceBase):
    """The calls made of many requests (see the module docstring)."""

    def _paced(
        self,
        timeout: Timeout | float | None | Unset,
        max_retries: int | Unset,
        extra_headers: Mapping[str, str] | None,
    ) -> RawBYOKResource:
        """The raw resource of a copy of the client that retries like a bulk run."""
        client = self._client._for_call(timeout, max_retries, extra_headers)
        return client.with_options(retry=bulk_policy(client.retry)).byok.with_raw_response

    def _batch(self, result: R, started: float, method: str, attempts: int = 0) -> APIResponse[R]:
        """The response facts of a call made of many requests: its result, its time."""
        elapsed = time.monotonic() - started
        url = self._client.base_url + "/byok"
        return APIResponse(result, 200, {}, None, attempts, elapsed, method, url)

    async def create_many(
        self,
        requests: Iterable[CreateBYOKKeyRequest],
        *,
        concurrency: int | None = None,
        on_progress: Callable[[CreateResult], Any] | None = None,
        stop: asyncio.Event | None = None,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[list[CreateResult]]:
        """``client.byok.create_many(...)`` (:func:`asyncbyok.bulk.create_many`); the
        response facts are those of the whole batch (``attempts``: requests sent)."""
        started = time.monotonic()
        paced = self._paced(timeout, max_retries, extra_headers)
        results = await create_many(
            paced.create,
            requests,
            concurrency=concurrency,
            on_progress=on_progress,
            stop=stop,
            listings=self._client._shared.listings,
            list_keys=paced._scope,
        )
        return self._batch(results, started, "POST", sum(r.attempts for r in results))

    async def ensure(
        self,
        /,
        *,
        provider: ProviderSlug | str,
        name: str,
        key: str | Unset = UNSET,
        workspace_id: str | Unset = UNSET,
        rotate_key: bool = False,
        allowed_models: list[str] | None | Unset = UNSET,
        allowed_user_ids: list[str] | None | Unset = UNSET,
        allowed_api_key_hashes: list[str] | None | Unset = UNSET,
        disabled: bool | Unset = UNSET,
        is_fallback: bool | Unset = UNSET,
        declared_region: DeclaredRegion | str | None | Unset = UNSET,
        declared_zdr: bool | None | Unset = UNSET,
        is_byok_only: bool | Unset = UNSET,
        is_required: bool | Unset = UNSET,
        max_age: float = 0.0,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[EnsureResult]:
        """Get or create the credential named *name* (see :mod:`asyncbyok.ensure`); the
        response facts are those of the last request the call made.

        *max_age*: a listing of the scope up to that many seconds old may serve the
        lookup (this client's own writes since are always reflected); ``0`` lists anew.
        """
        spec = EnsureSpec(
            provider=provider,
            name=name,
            key=key,
            workspace_id=workspace_id,
            rotate_key=rotate_key,
            allowed_models=allowed_models,
            allowed_user_ids=allowed_user_ids,
            allowed_api_key_hashes=allowed_api_key_hashes,
            disabled=disabled,
            is_fallback=is_fallback,
            declared_region=declared_region,
            declared_zdr=declared_zdr,
            is_byok_only=is_byok_only,
            is_required=is_required,
        )
        wanted = check(spec)
        check_max_age(max_age)
        raw = self._options(timeout, max_retries, extra_headers)
        return await ensure(raw, wanted, raw._ensure_shared(), max_age=max_age)

    async def ensure_many(
        self,
        specs: Iterable[EnsureSpec | Mapping[str, Any]],
        *,
        concurrency: int | None = None,
        max_age: float = 0.0,
        on_progress: Callable[[EnsureOutcome], Any] | None = None,
        stop: asyncio.Event | None = None,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[list[EnsureOutcome]]:
        """``ensure`` for many credentials: one listing per scope for any number of names,
        then only the writes needed, paced like ``create_many``. One
        :class:`~asyncbyok.ensure.EnsureOutcome` per spec, in input order; one item's
        failure is its outcome. Specs are :class:`~asyncbyok.ensure.EnsureSpec` objects or
        mappings of ``ensure``'s keywords, all checked before anything is sent::

            outcomes = await client.byok.ensure_many(
                [{"provider": "openai", "name": t, "key": keys[t]} for t in tenants]
            )
        """
        as_specs, wanted = check_many(specs, concurrency, on_progress, stop)
        check_max_age(max_age)
        started = time.monotonic()
        raw = self._paced(timeout, max_retries, extra_headers)
        shared = EnsureShared(
            self._client._shared.pending, self._client._shared.listings, raw._scope
        )
        limit = max(1, min(concurrency or DEFAULT_BULK_CONCURRENCY, len(wanted) or 1))
        outcomes = await ensure_many(
            raw,
            as_specs,
            wanted,
            shared,
            concurrency=limit,
            max_age=max_age,
            on_progress=on_progress,
            stop=stop,
        )
        return self._batch(outcomes, started, "POST")

    async def get_by_name(
        self,
        name: str,
        *,
        provider: ProviderSlug | str | None = None,
        workspace_id: str | None = None,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[BYOKKey]:
        """The one credential named exactly *name* (see :mod:`asyncbyok.names`), of
        *provider* (default: any) in *workspace_id* (default: the default workspace).

        Raises :class:`~asyncbyok.errors.NotFoundError` when there is none, and
        :class:`~asyncbyok.errors.DuplicateNameError` (holding each) when several share
        the name. It lists the workspace (the API has no filter by name): the response
        facts are those of the page that held the credential::

            key = await client.byok.get_by_name("prod", provider="openai")
        """
        scope = names.lookup_scope(name, provider, workspace_id)
        started = time.monotonic()
        raw = self._options(timeout, max_retries, extra_headers)
        index = await self._client._shared.listings.index(
            scope, since=started, list_keys=raw._scope
        )
        url = self._client.base_url + "/byok"
        found = names.only_one(index.named(name), name, scope, url)
        elapsed = time.monotonic() - started
        return APIResponse(
            found.key, found.status, found.headers, found.request_id, 0, elapsed, "GET", url
        )

    async def find_by_key(
        self,
        raw_key: str,
        *,
        provider: ProviderSlug | str | None = None,
        workspace_ids: Iterable[str | None] | None = None,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> APIResponse[KeyMatches]:
        """The credentials whose label is consistent with *raw_key*, for when a provider
        key leaks (see :mod:`asyncbyok.leaks`): iterate the result for them, look-alikes
        (other keys with the same visible ends) included; ``undetermined`` holds those
        whose label is too short to tell.

        *provider*: one provider, or every one (``None``). *workspace_ids*: the workspaces
        to search (``None`` in the list is the default workspace; default: the default
        workspace only). Each is listed once, paced like ``create_many``. Arguments that
        could find nothing (a label as the key, arguments swapped) raise
        :class:`~asyncbyok.errors.ValidationError` before anything is sent::

            found = await client.byok.find_by_key(leaked, workspace_ids=[None, ws])
            for key in found:
                await client.byok.update(key.id, key=replacement)
        """
        search = leaks.check_search(raw_key, provider, workspace_ids)
        started = time.monotonic()
        paced = self._paced(timeout, max_retries, extra_headers)
        found = await leaks.find(search, self._client._shared.listings, paced._scope)
        return self._batch(found, started, "GET")
