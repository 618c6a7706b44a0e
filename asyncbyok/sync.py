"""``asyncbyok.SyncClient``: the client for code without an event loop.

Scripts, notebooks, Django management commands and sync agent tools call it like this::

    with asyncbyok.SyncClient() as client:
        key = client.byok.create(provider="openai", key=raw_key, name="prod")
        for k in client.byok.list(provider="openai"):
            print(k.name, k.label)

It is not a second implementation. A :class:`SyncClient` runs one
:class:`~asyncbyok.client.Client` on a private event loop in a thread of its own
(:mod:`asyncbyok._loop_thread`), and each method of ``client.byok`` is the async method
of the same name, sent to that loop, its caller blocking until it is done: the same
arguments, checks, retries, safe create and errors, because it is the same code.

How the facade is typed. Each blocking method is made from its async one by
:func:`_blocking`, whose type (``ParamSpec``) carries the async method's parameters over:
``mypy --strict`` checks the arguments of ``client.byok.create(...)`` and knows it returns
a :class:`~asyncbyok.models.BYOKKey`, with no signature written twice. A ``__getattr__``
proxy would have needed no list of names, but would have typed every call as ``Any``; the
list is checked against the async resources by the tests, so a new method cannot be left
out unnoticed.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast

import attrs

from ._loop_thread import LoopThread, refuse_in_event_loop
from .client import Client
from .errors import FieldError, ValidationError
from .models import BYOKKey, UndecodableItem
from .pagination import AsyncKeyPager, Page
from .resources.byok import BYOKResource, RawBYOKResource
from .response import APIResponse

__all__ = ["SyncBYOKResource", "SyncClient", "SyncKeyPager", "SyncPage", "SyncRawBYOKResource"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T")


def _with_arguments_of(
    source: Callable[P, object],
) -> Callable[[Callable[Concatenate[S, ...], None]], Callable[Concatenate[S, P], None]]:
    """Give an ``__init__(self, **options)`` the parameters of *source* (a class), for type
    checkers and for ``help()``; its private ones (``_name``) are not shown."""

    def decorate(init: Callable[Concatenate[S, ...], None]) -> Callable[Concatenate[S, P], None]:
        shown = [p for p in inspect.signature(source).parameters.values() if p.name[0] != "_"]
        self = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
        init.__signature__ = inspect.Signature([self, *shown])  # type: ignore[attr-defined]
        return init

    return decorate


def _with_method_arguments_of(
    source: Callable[Concatenate[Any, P], object],
) -> Callable[[Callable[Concatenate[S, ...], R]], Callable[Concatenate[S, P], R]]:
    """Give a method ``(self, **options)`` the parameters of the method *source*."""

    def decorate(method: Callable[Concatenate[S, ...], R]) -> Callable[Concatenate[S, P], R]:
        returns = inspect.signature(method).return_annotation
        signature = inspect.signature(source).replace(return_annotation=returns)
        method.__signature__ = signature  # type: ignore[attr-defined]
        return method

    return decorate


class SyncClient:
    """A blocking client for the BYOK API: :class:`~asyncbyok.client.Client`'s arguments,
    its methods without ``await``. Use it as a context manager::

        with asyncbyok.SyncClient() as client:
            key = client.byok.create(provider="openai", key=raw_key, name="prod")
            for k in client.byok.list():                 # every key, page after page
                print(k.name)
            page = client.byok.list(limit=50).first_page()   # one page
            response = client.byok.with_raw_response.get(key.id)
            patient = client.with_options(timeout=120)

    It runs one async client on a private event loop in a daemon thread; each call is
    sent there and its caller waits. Any number of threads may call one ``SyncClient``
    at once (the calls run concurrently in the loop, under one connection pool, backoff
    gate and rate limiter). An exception is raised in the calling thread with its own
    type and a traceback through the loop. Ctrl-C while a call waits cancels that call.

    :meth:`close` (or leaving the ``with`` block) closes the client and ends its thread;
    calls after it raise :class:`~asyncbyok.errors.ClientClosedError`. A client never
    closed is closed when it is garbage collected, or at interpreter exit.

    In async code (a running event loop in the thread), it refuses to be made or called
    with :class:`~asyncbyok.errors.EventLoopError`: use :class:`~asyncbyok.client.Client`.
    Callbacks (``on_retry``, ``on_progress``) run in the client's thread, where a
    ``SyncClient`` cannot be called either. ``session=`` is refused: a session belongs
    to the event loop that made it, and this client's loop is its own.
    """

    _client: Client
    _runner: LoopThread
    _parent: SyncClient | None
    _finalizer: weakref.finalize[[Callable[[], Awaitable[None]]], SyncClient] | None

    @_with_arguments_of(Client)
    def __init__(self, **options: Any) -> None:
        refuse_in_event_loop()
        if options.get("session") is not None:
            message = "SyncClient runs on an event loop of its own: a session made in another"
            raise ValidationError([FieldError("session", message + " loop cannot serve it")])
        client = Client(**options)  # its checks (api_key, base_url ...) raise here, in the caller
        runner = LoopThread("asyncbyok-sync")
        self._adopt(client, runner, None)
        # The fallback close, at garbage collection or interpreter exit: it holds the
        # runner and the client, never this object.
        self._finalizer = weakref.finalize(self, runner.close, client.aclose)

    def _adopt(self, client: Client, runner: LoopThread, parent: SyncClient | None) -> None:
        self._client, self._runner, self._parent = client, runner, parent
        self._finalizer = None

    def __repr__(self) -> str:
        return f"Sync{self._client!r}"

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client and end its thread; calls in flight raise ``ClientClosedError``.

        A ``with_options`` copy shares its parent's thread and pool: closing the copy does
        nothing, closing the parent closes the copies too. Safe to call twice.
        """
        if self._finalizer is not None:
            self._finalizer()

    @property
    def is_closed(self) -> bool:
        """Whether the client (or the client this is a copy of) was closed."""
        return self._runner.closing or self._client.is_closed

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return self._client.base_url

    @property
    def byok(self) -> SyncBYOKResource:
        """The BYOK provider credentials: ``client.byok.create(...)`` and the rest."""
        return SyncBYOKResource(self, self._client.byok)

    @_with_method_arguments_of(Client.with_options)
    def with_options(self, **options: Any) -> SyncClient:
        """A client with other settings (:meth:`Client.with_options
        <asyncbyok.client.Client.with_options>`'s), on this one's thread and pool."""
        copy = SyncClient.__new__(SyncClient)
        copy._adopt(self._client.with_options(**options), self._runner, self)
        return copy


class _Facade(Generic[T]):
    """The blocking face of an async resource *target* of *owner*'s client."""

    def __init__(self, owner: SyncClient, target: T) -> None:
        self._owner = owner  # kept alive while a resource, pager or page of it is in use
        self._target = target

    def _call(self, function: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        return self._owner._runner.call(function, *args, **kwargs)


def _blocking(
    method: Callable[Concatenate[T, P], Awaitable[R]],
) -> Callable[Concatenate[_Facade[T], P], R]:
    """The blocking form of the async *method*: same parameters, its awaited result."""

    @functools.wraps(method)
    def call(self: _Facade[T], /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._call(method, self._target, *args, **kwargs)

    call.__doc__ = f"Blocking: ``{method.__qualname__}`` run on the client's thread.\n\n" + (
        inspect.getdoc(method) or ""
    )
    return call


def _first_page(
    method: Callable[Concatenate[T, P], Awaitable[APIResponse[Page]]],
) -> Callable[Concatenate[_Facade[T], P], APIResponse[SyncPage]]:
    """``with_raw_response.list``: the first page as a :class:`SyncPage`, with the facts
    of its response."""

    @functools.wraps(method)
    def call(self: _Facade[T], /, *args: P.args, **kwargs: P.kwargs) -> APIResponse[SyncPage]:
        response = self._call(method, self._target, *args, **kwargs)
        page = SyncPage(response.parsed, self._owner)
        # The same facts around another parsed value (evolve keeps any field added later).
        same_facts = cast("APIResponse[Any]", response)
        return attrs.evolve(same_facts, parsed=page)

    _returning(call, method, "APIResponse[SyncPage]")
    return call


def _pager(
    method: Callable[Concatenate[T, P], AsyncKeyPager],
) -> Callable[Concatenate[_Facade[T], P], SyncKeyPager]:
    """``byok.list``: the async pager (its arguments checked at once, here), iterated
    through the client's thread."""

    @functools.wraps(method)
    def call(self: _Facade[T], /, *args: P.args, **kwargs: P.kwargs) -> SyncKeyPager:
        return SyncKeyPager(method(self._target, *args, **kwargs), self._owner)

    call.__doc__ = (
        "Credentials of a workspace: iterate the result for every key (pages fetched\n"
        "through the client's thread, several at once), or take its ``first_page()``.\n\n"
        + (inspect.getdoc(method) or "")
    )
    _returning(call, method, "SyncKeyPager")
    return call


def _returning(wrapper: Callable[..., Any], method: Callable[..., Any], returns: str) -> None:
    """Show *method*'s parameters on *wrapper* (in ``help()``), with what it returns."""
    signature = inspect.signature(method).replace(return_annotation=returns)
    wrapper.__signature__ = signature  # type: ignore[attr-defined]


class SyncRawBYOKResource(_Facade[RawBYOKResource]):
    """``client.byok.with_raw_response`` of a :class:`SyncClient`: each call returns the
    :class:`~asyncbyok.response.APIResponse` around its result."""

    create = _blocking(RawBYOKResource.create)
    get = _blocking(RawBYOKResource.get)
    update = _blocking(RawBYOKResource.update)
    delete = _blocking(RawBYOKResource.delete)
    list_page = _blocking(RawBYOKResource.list_page)
    create_many = _blocking(RawBYOKResource.create_many)
    ensure = _blocking(RawBYOKResource.ensure)
    ensure_many = _blocking(RawBYOKResource.ensure_many)
    get_by_name = _blocking(RawBYOKResource.get_by_name)
    find_by_key = _blocking(RawBYOKResource.find_by_key)
    list = _first_page(RawBYOKResource.list)


class SyncBYOKResource(_Facade[BYOKResource]):
    """``client.byok`` of a :class:`SyncClient`: the methods of
    :class:`~asyncbyok.resources.byok.BYOKResource`, blocking."""

    create = _blocking(BYOKResource.create)
    get = _blocking(BYOKResource.get)
    update = _blocking(BYOKResource.update)
    delete = _blocking(BYOKResource.delete)
    list_page = _blocking(BYOKResource.list_page)
    create_many = _blocking(BYOKResource.create_many)
    ensure = _blocking(BYOKResource.ensure)
    ensure_many = _blocking(BYOKResource.ensure_many)
    get_by_name = _blocking(BYOKResource.get_by_name)
    find_by_key = _blocking(BYOKResource.find_by_key)
    list = _pager(BYOKResource.list)

    @property
    def with_raw_response(self) -> SyncRawBYOKResource:
        """The same calls, returning :class:`~asyncbyok.response.APIResponse`."""
        return SyncRawBYOKResource(self._owner, self._target.with_raw_response)


class SyncKeyPager:
    """``client.byok.list(...)`` of a :class:`SyncClient`: iterate it for every key (pages
    fetched through the client's thread, several at once, as the async pager does), or
    call :meth:`first_page` for one page and :meth:`pages` for page after page."""

    def __init__(self, pager: AsyncKeyPager, owner: SyncClient) -> None:
        self._pager = pager
        self._owner = owner

    def __iter__(self) -> Iterator[BYOKKey]:
        for page in self.pages():
            yield from page.data

    def first_page(self) -> SyncPage:
        """The first page (``await client.byok.list(...)`` of the async client)."""
        return SyncPage(self._owner._runner.call(_await, self._pager), self._owner)

    def pages(self) -> Iterator[SyncPage]:
        """Every page in order; each page's ``data`` holds only keys not yielded before."""
        runner = self._owner._runner
        # An async generator: first stepped in the loop, which thus finalizes it.
        pages = cast("AsyncGenerator[Page, None]", self._pager.pages())
        try:
            while (page := runner.call(_next_or_none, pages)) is not None:
                yield SyncPage(page, self._owner)
        finally:
            # Left early (break, an error, Ctrl-C): cancel the fetches still in flight.
            runner.close_generator(pages)


async def _await(awaitable: Awaitable[R]) -> R:
    return await awaitable


async def _next_or_none(pages: AsyncIterator[Page]) -> Page | None:
    try:
        return await pages.__anext__()
    except StopAsyncIteration:
        return None


@attrs.frozen
class SyncPage:
    """One :class:`~asyncbyok.pagination.Page` of a :class:`SyncClient`'s listing, with a
    blocking :meth:`next_page`. ``page`` is the page itself; its fields are here too."""

    page: Page
    _owner: SyncClient = attrs.field(repr=False, eq=False, alias="owner")

    @property
    def data(self) -> list[BYOKKey]:
        """The keys of this page."""
        return self.page.data

    @property
    def total_count(self) -> int:
        """How many keys the listing had when this page was fetched."""
        return self.page.total_count

    @property
    def offset(self) -> int:
        """Where this page starts."""
        return self.page.offset

    @property
    def limit(self) -> int:
        """The page size asked for."""
        return self.page.limit

    @property
    def request_id(self) -> str | None:
        """The server's id of the request that fetched this page."""
        return self.page.request_id

    @property
    def undecodable(self) -> list[UndecodableItem]:
        """The items of this page that are not credentials as this release reads them."""
        return self.page.undecodable

    @property
    def filtered_out(self) -> int:
        """How many credentials of this page a filter made here left out (``name=``)."""
        return self.page.filtered_out

    @property
    def item_count(self) -> int:
        """How many items the server sent in this page, decoded or not, filtered or not."""
        return self.page.item_count

    def has_next_page(self) -> bool:
        """Whether keys follow this page."""
        return self.page.has_next_page()

    def next_page(self) -> SyncPage | None:
        """The page after this one, or ``None`` after the last."""
        following = self._owner._runner.call(self.page.next_page)
        return None if following is None else SyncPage(following, self._owner)

    def __iter__(self) -> Iterator[BYOKKey]:
        return iter(self.page.data)

    def __len__(self) -> int:
        return len(self.page.data)
