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
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from .. import leaks, names, sansio
from .._constants import DEFAULT_BULK_CONCURRENCY, DEFAULT_LIST_CONCURRENCY, MAX_PAGE_SIZE
from .._sentinel import UNSET, Unset
from ..bulk import CreateResult, bulk_policy, create_many
from ..ensure import EnsureOutcome, EnsureResult, EnsureSpec, check, check_many, ensure, ensure_many
from ..ensure import _Shared as EnsureShared
from ..errors import FieldError, ValidationError
from ..leaks import KeyMatches
from ..listings import Found, Scope, scope_of
from ..models import (
    BYOKKey,
    BYOKKeyList,
    CreateBYOKKeyRequest,
    DeclaredRegion,
    DeleteResult,
    ProviderSlug,
    UndecodableItem,
    UpdateBYOKKeyRequest,
    request_fields,
)
from ..pagination import AsyncKeyPager, Page, only_named
from ..response import APIResponse
from ..safe_create import SafeCreate, SafeDelete

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
    """The plain method of a raw one: the same arguments, the parsed result.

    What it returns is the raw method's ``APIResponse[X]`` unwrapped, and it says so at run
    time too: its ``__signature__`` (``help()``, ``inspect.signature``, the reference) and
    docstring show ``X``. Type checkers read ``R`` from this function's own annotations.
    """

    @functools.wraps(raw_method)
    async def method(self: BYOKResource, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return (await raw_method(self.with_raw_response, *args, **kwargs)).parsed

    name = raw_method.__name__
    raw_signature = inspect.signature(raw_method)
    returns = _unwrapped_annotation(raw_signature.return_annotation, name)
    method.__qualname__ = f"BYOKResource.{name}"
    method.__signature__ = raw_signature.replace(  # type: ignore[attr-defined]
        return_annotation=returns
    )
    method.__doc__ = (
        f"{inspect.getdoc(raw_method) or ''}\n\nReturns ``{returns}``"
        f" (``client.byok.with_raw_response.{name}(...)``:\nthe "
        ":class:`~asyncbyok.response.APIResponse` around it)."
    )
    return method


def _unwrapped_annotation(annotation: object, name: str) -> str:
    """``"X"`` of a raw method's ``"APIResponse[X]"`` (annotations are strings here)."""
    inner = re.fullmatch(r"APIResponse\[(.+)\]", str(annotation))
    if inner is None:  # pragma: no cover - a raw method must return an APIResponse
        raise TypeError(f"RawBYOKResource.{name} must be annotated -> APIResponse[...]")
    return inner.group(1)


class RawBYOKResource:
    """``client.byok.with_raw_response``: the calls of ``client.byok``, with the same
    arguments, returning :class:`~asyncbyok.response.APIResponse` (status, headers,
    request id, attempts, elapsed time) around the parsed result."""

    def __init__(self, client: Client) -> None:
        self._client = client

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
            return _page(response, offset, limit, fetch)

        async for page in AsyncKeyPager(fetch, limit=MAX_PAGE_SIZE).pages():
            response = facts[page.request_id]
            for key in page.data:
                yield Found(key, response.status, response.headers, response.request_id)
            for item in page.undecodable:
                yield item

    def _ensure_shared(self) -> EnsureShared:
        shared = self._client._shared
        return EnsureShared(shared.pending, shared.listings, self._scope)

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
        shared = self._client._shared
        url = self._client.base_url + "/byok"
        safe = SafeCreate(request, shared.claims, shared.listings, self._scope, "POST", url)
        response = await self._client.request(
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
            shared.listings.created(scope, _found(response))
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
        regenerates ``label``). A call that gives no field raises
        :class:`~asyncbyok.errors.ValidationError` before anything is sent. Retried like
        the rest: a PATCH sets fields, so resending the same body is harmless::

            await client.byok.update(key_id, allowed_models=None, disabled=True)
        """
        assert request is not None  # built by _takes_fields
        path = sansio.key_path(key_id)
        if request.is_empty():  # a PATCH that changes nothing is a mistake of the caller's
            problem = "gives no field to change: pass at least one (None clears a field)"
            raise ValidationError([FieldError("request", problem)], subject="update")
        rotated = (request.key,) if isinstance(request.key, str) else ()
        response = await self._client.request(
            "PATCH", path, BYOKKey, json_body=request, envelope=True, redact=rotated
        )
        listings = self._client._shared.listings
        if listings.active:
            listings.updated(_found(response))
        return response

    async def delete(self, key_id: str) -> APIResponse[DeleteResult]:
        """``DELETE /byok/{id}`` (the API soft-deletes it and wipes the key).

        If an attempt fails ambiguously, the delete is sent again (a DELETE is idempotent),
        and a 404 to the resend means that attempt deleted it: the call succeeds.
        """
        path = sansio.key_path(key_id)
        safe = SafeDelete("DELETE", self._client.base_url + path)
        response = await self._client.request("DELETE", path, DeleteResult, reconcile=safe)
        self._client._shared.listings.deleted(key_id)
        return response

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
        paced = self._client.with_options(retry=bulk_policy(self._client.retry)).byok
        return await create_many(
            paced.with_raw_response.create,
            requests,
            concurrency=concurrency,
            on_progress=on_progress,
            stop=stop,
            listings=self._client._shared.listings,
            list_keys=paced.with_raw_response._scope,
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
        _check_max_age(max_age)
        return await ensure(self, wanted, self._ensure_shared(), max_age=max_age)

    async def ensure_many(
        self,
        specs: Iterable[EnsureSpec | Mapping[str, Any]],
        *,
        concurrency: int | None = None,
        max_age: float = 0.0,
        on_progress: Callable[[EnsureOutcome], Any] | None = None,
        stop: asyncio.Event | None = None,
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
        _check_max_age(max_age)
        started = time.monotonic()
        paced = self._client.with_options(retry=bulk_policy(self._client.retry)).byok
        raw = paced.with_raw_response
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
        return APIResponse(
            outcomes,
            200,
            {},
            None,
            0,
            time.monotonic() - started,
            "POST",
            self._client.base_url + "/byok",
        )

    async def get_by_name(
        self,
        name: str,
        *,
        provider: ProviderSlug | str | None = None,
        workspace_id: str | None = None,
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
        index = await self._client._shared.listings.index(
            scope, since=started, list_keys=self._scope
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
        paced = self._client.with_options(retry=bulk_policy(self._client.retry)).byok
        listings = self._client._shared.listings
        found = await leaks.find(search, listings, paced.with_raw_response._scope)
        elapsed = time.monotonic() - started
        url = self._client.base_url + "/byok"
        return APIResponse(found, 200, {}, None, 0, elapsed, "GET", url)

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
    ) -> APIResponse[Page]:
        """The first :class:`~asyncbyok.pagination.Page` of ``client.byok.list(...)``,
        with the facts of its response; ``page.next_page()`` fetches the next. With
        *name*, pages hold only the credentials of that exact name (filtered here)."""
        _pager_arguments(concurrency)
        _name_argument(name)
        response = await self.list_page(
            offset=offset, limit=limit, workspace_id=workspace_id, provider=provider
        )
        page = _page(response, offset, limit, self._fetcher(workspace_id, provider))
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


def _found(response: APIResponse[BYOKKey]) -> Found:
    return Found(response.parsed, response.status, response.headers, response.request_id)


def _check_max_age(max_age: object) -> None:
    if (
        not isinstance(max_age, (int, float))
        or isinstance(max_age, bool)
        or not 0 <= max_age < float("inf")
    ):
        raise ValidationError([FieldError("max_age", "must be a number of seconds >= 0")])


def _pager_arguments(concurrency: object) -> None:
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise ValidationError([FieldError("concurrency", "must be an integer >= 1")])


def _name_argument(name: object) -> None:
    errors = [] if name is UNSET else names.check_name(name)
    if errors:
        raise ValidationError(errors, subject="list")


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
    ensure_many = _parsed(RawBYOKResource.ensure_many)
    get_by_name = _parsed(RawBYOKResource.get_by_name)
    find_by_key = _parsed(RawBYOKResource.find_by_key)

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
        name: str | Unset = UNSET,
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
        _pager_arguments(concurrency)
        _name_argument(name)
        return AsyncKeyPager(
            self.with_raw_response._fetcher(workspace_id, provider),
            offset=offset,
            limit=limit,
            concurrency=concurrency,
            name=None if name is UNSET else name,
        )
