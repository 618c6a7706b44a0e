"""``client.byok``: create, list, get, update, delete and ensure BYOK provider credentials.

:class:`RawBYOKResource` (``client.byok.with_raw_response``) holds the calls, each
returning an :class:`~asyncbyok.response.APIResponse`; :class:`BYOKResource` offers the
same methods, with the same arguments, returning the parsed result.

The keyword arguments of ``create`` and ``update`` are the fields of
:class:`~asyncbyok.models.CreateBYOKKeyRequest` and
:class:`~asyncbyok.models.UpdateBYOKKeyRequest`: :func:`_takes_fields` checks, when this
module is imported, that each signature names exactly the model's fields
(:func:`~asyncbyok.models.request_fields`), and builds the request from them.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from .. import sansio
from .._constants import DEFAULT_LIST_CONCURRENCY, MAX_PAGE_SIZE
from .._sentinel import UNSET, Unset
from ..bulk import CreateResult, bulk_policy, create_many
from ..ensure import EnsureResult, Pending, Wanted, ensure
from ..ensure import check as check_ensure
from ..errors import FieldError, ValidationError
from ..models import (
    BYOKKey,
    BYOKKeyList,
    CreateBYOKKeyRequest,
    DeclaredRegion,
    DeleteResult,
    ProviderSlug,
    UpdateBYOKKeyRequest,
    request_fields,
)
from ..pagination import AsyncKeyPager, Page
from ..response import APIResponse
from ..safe_create import CreateReconciler, Found, SafeCreate, SafeDelete

if TYPE_CHECKING:
    import asyncio

    from ..client import Client

__all__ = ["BYOKResource", "RawBYOKResource"]

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


def _takes_fields(model: type[Any], *, skip: int) -> Callable[[F], F]:
    """Let a method take *model*'s fields as keywords, or one ready *model*, not both.

    The method's keyword-only parameters must be exactly the model's fields (checked at
    import); the method receives the built request as its positional ``request``.
    *skip* is how many positional parameters precede ``request`` (``self``, ``key_id``).
    """
    names = frozenset(f.name for f in request_fields(model))

    def decorate(method: F) -> F:
        signature = inspect.signature(method)
        keywords = {p.name for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY}
        if keywords != names:
            raise TypeError(
                f"{method.__qualname__} must take {model.__name__}'s fields as keywords: "
                f"missing {sorted(names - keywords)}, extra {sorted(keywords - names)}"
            )

        @functools.wraps(method)
        def wrapper(*args: Any, **fields: Any) -> Any:
            head, rest = args[:skip], args[skip:]
            request = rest[0] if rest else None
            return method(*head, _build(model, request, fields))

        return wrapper  # type: ignore[return-value]

    return decorate


_BLANKS: dict[type[Any], dict[str, Any]] = {}


def _blank(cls: type[Any]) -> dict[str, Any]:
    """Every field of a request model, UNSET."""
    blank = _BLANKS.get(cls)
    if blank is None:
        blank = _BLANKS[cls] = dict.fromkeys((f.name for f in request_fields(cls)), UNSET)
    return blank


def _build(cls: type[R], request: Any, fields: dict[str, Any]) -> R:
    """A request object from either a ready one or keyword arguments, not both."""
    if request is None:
        # A field left out is UNSET, required ones too: the model then names each missing one.
        blank = _blank(cls)
        if not fields.keys() <= blank.keys():
            unknown = sorted(fields.keys() - blank.keys())
            raise TypeError(f"unexpected keyword arguments: {', '.join(unknown)}")
        return cls(**{**blank, **fields})
    if not isinstance(request, cls):
        raise TypeError(f"expected a {cls.__name__}, not {type(request).__name__}")
    given = [k for k, v in fields.items() if v is not UNSET]
    if given:
        raise ValidationError(
            [FieldError(k, f"given twice: as a keyword and in the {cls.__name__}") for k in given],
            subject=cls.__name__,
        )
    return request


def _parsed(
    raw_method: Callable[Concatenate[RawBYOKResource, P], Awaitable[APIResponse[R]]],
) -> Callable[Concatenate[BYOKResource, P], Awaitable[R]]:
    """The plain method of a raw one: the same arguments, the parsed result."""

    @functools.wraps(raw_method)
    async def method(self: BYOKResource, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return (await raw_method(self.with_raw_response, *args, **kwargs)).parsed

    return method


class RawBYOKResource:
    """``client.byok.with_raw_response``: the calls of ``client.byok``, with the same
    arguments, returning :class:`~asyncbyok.response.APIResponse` (status, headers,
    request id, attempts, elapsed time) around the parsed result."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _reconciler(self) -> CreateReconciler:
        return self._client.shared_state("safe_create", lambda: CreateReconciler(self._scope))

    async def _scope(self, provider: str, workspace: str | None) -> AsyncIterator[Found]:
        """Every credential of *provider* in *workspace*, with its page's response facts."""
        facts: dict[str | None, APIResponse[BYOKKeyList]] = {}

        async def fetch(offset: int, limit: int) -> Page:
            response = await self.list_page(
                offset=offset,
                limit=limit,
                provider=provider,
                workspace_id=UNSET if workspace is None else workspace,
            )
            facts[response.request_id] = response
            return _page(response, offset, limit, fetch)

        async for page in AsyncKeyPager(fetch, limit=MAX_PAGE_SIZE).pages():
            response = facts[page.request_id]
            for key in page.data:
                yield Found(key, response.status, response.headers, response.request_id)

    @_takes_fields(CreateBYOKKeyRequest, skip=1)
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
    ) -> APIResponse[BYOKKey]:
        """``POST /byok``, with the safe-create rule (:mod:`asyncbyok.safe_create`).

        Pass a :class:`~asyncbyok.models.CreateBYOKKeyRequest`, or its fields as keywords.
        Fields left ``UNSET`` are not sent; ``None`` sends ``null``. Invalid input raises
        :class:`~asyncbyok.errors.ValidationError` before anything is sent. If the outcome
        of an attempt is unknown, the credential is looked up before any resend, so
        retries never make a duplicate (see :mod:`asyncbyok.safe_create`)::

            key = await client.byok.create(provider="openai", key=raw, name="prod")
        """
        assert request is not None  # built by _takes_fields
        reconciler = self._reconciler()
        url = self._client.base_url + "/byok"
        safe = SafeCreate(request, reconciler, "POST", url)
        response = await self._client.request(
            "POST", "/byok", BYOKKey, json_body=request, envelope=True, reconcile=safe
        )
        if not response.recovered:
            reconciler.claimed.add(response.parsed.id)
        return response

    async def get(self, key_id: str) -> APIResponse[BYOKKey]:
        """``GET /byok/{id}``: one credential; :class:`~asyncbyok.errors.NotFoundError` if
        absent or deleted. *key_id* must be a UUID."""
        return await self._client.request("GET", sansio.key_path(key_id), BYOKKey, envelope=True)

    @_takes_fields(UpdateBYOKKeyRequest, skip=2)
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
    ) -> APIResponse[BYOKKey]:
        """``PATCH /byok/{id}``: change the fields given, leave the rest; ``None`` clears a
        nullable field; ``key=`` rotates the raw provider key in place (the server
        regenerates ``label``). Retried like the rest: a PATCH sets fields, so resending
        the same body is harmless::

            await client.byok.update(key_id, allowed_models=None, disabled=True)
        """
        assert request is not None  # built by _takes_fields
        path = sansio.key_path(key_id)
        return await self._client.request("PATCH", path, BYOKKey, json_body=request, envelope=True)

    async def delete(self, key_id: str) -> APIResponse[DeleteResult]:
        """``DELETE /byok/{id}`` (the API soft-deletes it and wipes the key).

        If an attempt fails ambiguously, the credential is fetched before any resend, and
        a 404 then (or to the resend) means that attempt deleted it: the call succeeds.
        """
        path = sansio.key_path(key_id)
        safe = SafeDelete(lambda: self.get(key_id), "DELETE", self._client.base_url + path)
        return await self._client.request("DELETE", path, DeleteResult, reconcile=safe)

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

    def _fetcher(
        self, workspace_id: str | Unset, provider: ProviderSlug | str | Unset
    ) -> Callable[[int, int], Awaitable[Page]]:
        async def fetch(offset: int, limit: int) -> Page:
            response = await self.list_page(
                offset=offset, limit=limit, workspace_id=workspace_id, provider=provider
            )
            return _page(response, offset, limit, fetch)

        return fetch

    async def create_many(
        self,
        requests: Iterable[CreateBYOKKeyRequest],
        *,
        concurrency: int | None = None,
        on_progress: Callable[[CreateResult], Any] | None = None,
        stop: asyncio.Event | None = None,
    ) -> APIResponse[list[CreateResult]]:
        """``client.byok.create_many(...)`` (:func:`asyncbyok.bulk.create_many`); the
        response facts are those of the whole batch (``attempts``: requests sent)."""
        started = time.monotonic()
        results = await self._create_many(requests, concurrency, on_progress, stop)
        return APIResponse(
            results,
            200,
            {},
            None,
            sum(r.attempts for r in results),
            time.monotonic() - started,
            "POST",
            self._client.base_url + "/byok",
        )

    async def _create_many(
        self,
        requests: Iterable[CreateBYOKKeyRequest],
        concurrency: int | None,
        on_progress: Callable[[CreateResult], Any] | None,
        stop: asyncio.Event | None,
    ) -> list[CreateResult]:
        paced = self._client.with_options(retry=bulk_policy(self._client.retry))
        return await create_many(
            paced.byok.with_raw_response.create,
            requests,
            concurrency=concurrency,
            on_progress=on_progress,
            stop=stop,
        )

    async def ensure(
        self,
        /,
        *,
        provider: ProviderSlug | str,
        name: str,
        key: str | Unset = UNSET,
        workspace_id: str | Unset = UNSET,
        rotate_key: bool = False,
        **fields: Any,
    ) -> APIResponse[EnsureResult]:
        """Get or create the credential named *name* (see :mod:`asyncbyok.ensure`);
        the response facts are those of the last request the call made."""
        wanted = check_ensure(
            provider=provider,
            name=name,
            key=key,
            workspace_id=workspace_id,
            rotate_key=rotate_key,
            fields=fields,
        )
        pending = self._client.shared_state("ensure", Pending)
        return await ensure(self, wanted, pending=pending, list_keys=self._named_scope)

    def _named_scope(self, wanted: Wanted) -> AsyncIterator[BYOKKey]:
        """The credentials of *wanted*'s provider and workspace (for ``ensure``)."""
        create = wanted.create
        return aiter(
            self._client.byok.list(provider=create.provider, workspace_id=create.workspace_id)
        )

    # Last in the class: below this line, "list" names the method, not the builtin.
    async def list(
        self,
        *,
        workspace_id: str | Unset = UNSET,
        provider: ProviderSlug | str | Unset = UNSET,
        limit: int = MAX_PAGE_SIZE,
        offset: int = 0,
        concurrency: int = DEFAULT_LIST_CONCURRENCY,
    ) -> APIResponse[Page]:
        """The first :class:`~asyncbyok.pagination.Page` of ``client.byok.list(...)``,
        with the facts of its response; ``page.next_page()`` fetches the next."""
        _pager_arguments(concurrency)
        response = await self.list_page(
            offset=offset, limit=limit, workspace_id=workspace_id, provider=provider
        )
        page = _page(response, offset, limit, self._fetcher(workspace_id, provider))
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


def _page(
    response: APIResponse[BYOKKeyList],
    offset: int,
    limit: int,
    fetch: Callable[[int, int], Awaitable[Page]],
) -> Page:
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


def _pager_arguments(concurrency: object) -> None:
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise ValidationError([FieldError("concurrency", "must be an integer >= 1")])


class BYOKResource:
    """``client.byok``: the BYOK provider credentials of the account.

    Every method has a twin on ``with_raw_response`` that takes the same arguments
    and returns the :class:`~asyncbyok.response.APIResponse` around the result.
    """

    def __init__(self, client: Client) -> None:
        self.with_raw_response = RawBYOKResource(client)

    create = _parsed(RawBYOKResource.create)
    get = _parsed(RawBYOKResource.get)
    update = _parsed(RawBYOKResource.update)
    list_page = _parsed(RawBYOKResource.list_page)
    create_many = _parsed(RawBYOKResource.create_many)
    ensure = _parsed(RawBYOKResource.ensure)

    async def delete(self, key_id: str) -> bool:
        """Delete a credential (the API soft-deletes it and wipes the key). Returns True;
        see :meth:`RawBYOKResource.delete` for what happens when an attempt is lost."""
        return (await self.with_raw_response.delete(key_id)).parsed.deleted

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

        Arguments are checked at once, before anything is sent.
        """
        sansio.list_query(offset=offset, limit=limit, workspace_id=workspace_id, provider=provider)
        _pager_arguments(concurrency)
        return AsyncKeyPager(
            self.with_raw_response._fetcher(workspace_id, provider),
            offset=offset,
            limit=limit,
            concurrency=concurrency,
        )
