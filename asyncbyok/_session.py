"""How the client's aiohttp sessions are made: a proxy, TLS, and a caller's factory.

A client makes one session per event loop (:mod:`asyncbyok._loops`), on that loop's first
request: ``aiohttp.ClientSession(**settings)``, or ``session_factory(**settings)`` when
``Client(session_factory=...)`` is given. The settings are ``ClientSession``'s keyword
arguments, and asyncbyok sets these, each for a reason:

``connector``
    an ``aiohttp.TCPConnector`` with ``limit=Limits.max_connections``,
    ``keepalive_timeout=Limits.keepalive_timeout`` and ``ssl=`` (``Client(ssl=...)``:
    a context for a private CA or a client certificate; ``True``, the default, verifies
    against the system's CAs).
``raise_for_status=False``
    the client reads every status itself: an error status becomes its exception
    (:func:`~asyncbyok.errors.error_from_response`), and its retry policy decides
    about 429 and 5xx.
``cookie_jar=aiohttp.DummyCookieJar()``
    the API keeps no state in cookies. A jar would keep whatever a server or a proxy on
    the way sets and send it back with every later call of every caller sharing the
    client: state no one asked for, and a ``Cookie`` header to keep out of errors.
``proxy``
    ``Client(proxy=...)``, or the proxy ``trust_env=True`` found for the base URL, with
    its ``user:password@``; ``None`` when there is none.

On the session made, whoever made it, ``_retry_connection`` is set to ``False``: aiohttp
otherwise resends a GET, PUT or DELETE once, silently, when a kept-alive connection drops.
The client's retry policy decides about resends and counts them; a DELETE resent behind
its back turns "deleted" into a confusing 404.

Not set, and why:

- timeouts: each request carries its own (``Client(timeout=...)``), which replaces the
  session's;
- headers: each request carries its own (``Authorization`` among them), built by
  :mod:`asyncbyok.sansio`;
- ``trust_env``: ``Client(trust_env=True)`` reads ``HTTP_PROXY``, ``HTTPS_PROXY`` and
  ``NO_PROXY`` itself, once, when the client is made (:func:`proxy_from_environment`).
  aiohttp's own ``trust_env`` reads them on every request, and ``~/.netrc`` too: a netrc
  entry for the API's host (or a ``default`` one) would be sent as a second
  ``Authorization``, which aiohttp refuses with a ``ValueError`` on every call.

A factory's session is checked (:func:`make_session`): one that would break what the
client relies on is refused with a :class:`~asyncbyok.errors.ValidationError` naming
``session_factory``, and closed.
"""

from __future__ import annotations

import base64
import inspect
import logging
import urllib.parse
import urllib.request
from collections.abc import Callable
from ssl import CERT_NONE, PROTOCOL_TLS_SERVER, SSLContext
from typing import TYPE_CHECKING, Any

import attrs

from ._scrub import REDACTED
from .config import Limits
from .errors import FieldError, InsecureURLError, ValidationError
from .sansio import is_loopback

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "MadeSession",
    "Proxy",
    "SessionFactory",
    "SessionOptions",
    "make_session",
    "parse_proxy",
    "proxy_from_environment",
    "session_options",
]

logger = logging.getLogger("asyncbyok")

SessionFactory = Callable[..., "aiohttp.ClientSession"]
"""``session_factory(**settings) -> aiohttp.ClientSession``: see the module docstring."""


def _error(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError(field, message)], subject="Client")


# -- proxies ------------------------------------------------------------------------------


@attrs.frozen(repr=False)
class Proxy:
    """A forward proxy: ``url`` as aiohttp is given it (with ``user:password@``),
    ``shown`` with the user and password replaced by ``<redacted>``, and the ``secrets``
    those credentials show as (in a URL, a message, a ``Proxy-Authorization`` header)."""

    url: str
    shown: str
    host: str
    secrets: tuple[str, ...]

    def __repr__(self) -> str:
        return f"Proxy({self.shown!r})"


def _proxy_secrets(user: str, password: str) -> tuple[str, ...]:
    """What a proxy's *user* and *password* (as written in its URL) may show as."""
    if not user and not password:
        return ()
    found: set[str] = set()
    plain_user, plain_password = urllib.parse.unquote(user), urllib.parse.unquote(password)
    for login, secret in ((user, password), (plain_user, plain_password)):
        if secret:
            found.update({secret, f"{login}:{secret}"})
        elif login:  # a token given as the user name, with no password
            found.add(login)
    for encoding in ("latin-1", "utf-8"):  # aiohttp's BasicAuth encodes latin-1 by default
        try:
            pair = f"{plain_user}:{plain_password}".encode(encoding)
        except UnicodeEncodeError:
            continue
        found.add(base64.b64encode(pair).decode("ascii"))
    found.discard("")
    return tuple(sorted(found, key=len, reverse=True))


def parse_proxy(value: object, *, field: str = "proxy", source: str | None = None) -> Proxy:
    """The :class:`Proxy` an ``http://[user:password@]host[:port]`` URL names.

    Refused with a :class:`~asyncbyok.errors.ValidationError` naming *field*, which never
    quotes the URL's credentials; *source* says where the URL came from (an environment
    variable). Only ``http://`` proxies: requests to an ``https://`` API go through them
    in a ``CONNECT`` tunnel, so TLS still runs from the client to the server.
    """
    what = f"{source} " if source else ""
    if not isinstance(value, str):
        raise _error(field, f"{what}must be a URL string, not {type(value).__name__}")
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - read for its check: a number from 0 to 65535
    except ValueError:
        raise _error(field, f"{what}is not a valid URL") from None
    if parts.scheme != "http":
        # Named only when it is one: "user:password@host" parses as the scheme "user".
        named = value.startswith(f"{parts.scheme}://") and parts.scheme.isalnum()
        got = f", not {parts.scheme}://" if named else ""
        raise _error(field, f"{what}must be an http:// proxy URL{got}")
    if not host:
        raise _error(field, f"{what}must name a host, as in http://proxy.example:3128")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise _error(field, f"{what}must be http://host:port, with no path or query")
    userinfo, at, address = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    shown = f"http://{REDACTED}@{address}" if at else value
    return Proxy(url=value, shown=shown, host=host, secrets=_proxy_secrets(user, password))


def proxy_from_environment(base_url: str) -> Proxy | None:
    """The proxy ``HTTP_PROXY``/``HTTPS_PROXY`` name for *base_url*, unless ``NO_PROXY``
    excludes its host: the standard library's reading (:func:`urllib.request.getproxies`,
    :func:`urllib.request.proxy_bypass`), as aiohttp's ``trust_env`` does. A value with no
    scheme (``proxy.example:3128``) means ``http://``, as curl and requests read it."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    value = urllib.request.getproxies().get(parts.scheme)
    if not value:
        return None
    if "://" not in value:
        value = "http://" + value
    return parse_proxy(value, field="trust_env", source=f"{parts.scheme.upper()}_PROXY")


# -- TLS ----------------------------------------------------------------------------------


def _verifies(context: SSLContext) -> bool:
    return context.verify_mode != CERT_NONE and context.check_hostname


def _check_ssl(value: object, allow_insecure_tls: bool) -> SSLContext | bool:
    """``Client(ssl=...)`` checked: a client context, ``True`` (the default) or ``False``;
    anything that does not verify the server needs ``allow_insecure_tls=True``."""
    checked: SSLContext | bool
    if value is None or isinstance(value, bool):
        checked = value is not False
    elif isinstance(value, SSLContext):
        if value.protocol == PROTOCOL_TLS_SERVER:
            raise _error("ssl", "is a server's context; make one with ssl.create_default_context()")
        checked = value
    else:
        raise _error("ssl", f"must be an ssl.SSLContext, True or False, not {type(value).__name__}")
    verifies = checked is True or (isinstance(checked, SSLContext) and _verifies(checked))
    if not verifies and not allow_insecure_tls:
        raise _error(
            "ssl",
            "does not verify the server's certificate, so anyone on the way could read the "
            "management key: pass allow_insecure_tls=True as well to accept that (for a "
            "private CA, pass ssl=ssl.create_default_context(cafile=...) instead)",
        )
    if verifies and allow_insecure_tls:
        raise _error(
            "allow_insecure_tls", "goes only with ssl=False (or a context that does not verify)"
        )
    return checked


# -- what Client's arguments say ----------------------------------------------------------


@attrs.frozen
class SessionOptions:
    """How the client's sessions are made: from ``Client``'s arguments, checked
    (:func:`session_options`)."""

    proxy: Proxy | None = None
    ssl: SSLContext | bool = True
    factory: SessionFactory | None = None

    @property
    def verifies(self) -> bool:
        """Whether the server's certificate is verified."""
        return self.ssl is True or (isinstance(self.ssl, SSLContext) and _verifies(self.ssl))

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must not show in errors beside the request's own credentials."""
        return self.proxy.secrets if self.proxy is not None else ()


_WITH_SESSION = "goes with the session the client makes, not with session= (a session "
_WITH_SESSION += "you made is used as it is: set it there, or pass session_factory=)"


def session_options(
    *,
    base_url: str,
    allow_insecure_http: bool,
    session: aiohttp.ClientSession | None,
    session_factory: SessionFactory | None,
    proxy: str | None,
    trust_env: bool,
    ssl: SSLContext | bool | None,
    allow_insecure_tls: bool,
) -> SessionOptions:
    """``Client``'s session arguments checked together; a conflict, or a value the client
    can't use, raises :class:`~asyncbyok.errors.ValidationError` naming each argument."""
    if session is not None:
        given = {
            "session_factory": session_factory is not None,
            "proxy": proxy is not None,
            "trust_env": bool(trust_env),
            "ssl": ssl is not None,
            "allow_insecure_tls": bool(allow_insecure_tls),
        }
        errors = [FieldError(name, _WITH_SESSION) for name, on in given.items() if on]
        if errors:
            raise ValidationError(errors, subject="Client")
        return SessionOptions()
    if proxy is not None and trust_env:
        raise _error("proxy", "and trust_env=True both choose the proxy: pass one of them")
    if session_factory is not None and not callable(session_factory):
        raise _error("session_factory", "must be a callable returning an aiohttp.ClientSession")
    checked_ssl = _check_ssl(ssl, allow_insecure_tls)
    found = parse_proxy(proxy) if proxy is not None else None
    if trust_env:
        found = proxy_from_environment(base_url)
    # Over plain http the request (the management key in it) reaches the proxy as it
    # is: the proxy's host is the one that must be loopback.
    through = found.host if found is not None and base_url.startswith("http:") else None
    if through is not None and not allow_insecure_http and not is_loopback(through):
        raise InsecureURLError(
            f"refusing to send the management key over plain http through the proxy "
            f"{through}: use an https:// base URL, or pass allow_insecure_http=True"
        )
    return SessionOptions(proxy=found, ssl=checked_ssl, factory=session_factory)


# -- making a session, in the running loop ------------------------------------------------


def session_settings(options: SessionOptions, limits: Limits) -> dict[str, Any]:
    """The keyword arguments of ``aiohttp.ClientSession`` the client makes its sessions
    with (see the module docstring); made in the running loop, since the connector and
    the jar belong to it."""
    import aiohttp

    connector = aiohttp.TCPConnector(
        limit=limits.max_connections,
        keepalive_timeout=limits.keepalive_timeout,
        ssl=options.ssl,
    )
    return {
        "connector": connector,
        "raise_for_status": False,
        "cookie_jar": aiohttp.DummyCookieJar(),
        "proxy": options.proxy.url if options.proxy is not None else None,
    }


@attrs.define
class MadeSession:
    """What :func:`make_session` made: the session to use (or the error to raise instead),
    and what was made but is not used, to close (:meth:`discard`)."""

    session: aiohttp.ClientSession | None = None
    error: BaseException | None = None
    unused: list[Any] = attrs.field(factory=list)  # sessions and connectors

    async def discard(self) -> None:
        """Close what was made and is not used."""
        unused, self.unused = self.unused, []
        for thing in unused:
            await thing.close()


def make_session(options: SessionOptions, limits: Limits) -> MadeSession:
    """A session for the running loop, made by the client or by ``options.factory`` and
    checked. Runs to its end without waiting, so that no other task of the loop runs in
    between: the caller stores the session before its first ``await``.
    """
    import aiohttp

    settings = session_settings(options, limits)
    ours: aiohttp.TCPConnector = settings["connector"]
    if not options.verifies:
        logger.warning(
            "TLS certificate verification is off (allow_insecure_tls=True): anyone on the "
            "way to the server can read the management key and everything sent"
        )
    if options.factory is None:
        session = aiohttp.ClientSession(**settings)
    else:
        try:
            session = options.factory(**settings)
        except Exception as exc:
            return MadeSession(error=exc, unused=[ours])
        problem = _refusal(session, ours)
        if problem is not None:
            made = MadeSession(error=_error("session_factory", problem), unused=[ours])
            if _in_this_loop(session):  # made for the client: closed with the refusal
                made.unused.append(session)
            elif inspect.iscoroutine(session):
                session.close()  # an async factory's: closed, so that it never warns
            return made
    # aiohttp silently resends GET/PUT/DELETE once when a kept-alive connection drops:
    # the retry policy decides about resends (see the module docstring).
    session._retry_connection = False
    made = MadeSession(session=session)
    if session.connector is not ours:
        logger.warning(
            "the session from session_factory has a connector of its own: the client's "
            "connection limit, keep-alive and ssl settings are not applied to it"
        )
        made.unused.append(ours)
    return made


def _in_this_loop(session: object) -> bool:
    """Whether *session* is an open ``aiohttp.ClientSession`` of the running loop (aiohttp
    keeps a session's loop in ``_loop``: its ``loop`` property warns)."""
    import asyncio

    import aiohttp

    if not isinstance(session, aiohttp.ClientSession) or session.closed:
        return False
    return getattr(session, "_loop", None) is asyncio.get_running_loop()


def _refusal(session: object, ours: aiohttp.TCPConnector) -> str | None:
    """Why the client can't use *session* from a factory, or ``None`` if it can."""
    import aiohttp

    if inspect.iscoroutine(session):
        return "returned a coroutine: it must be a plain function returning the session"
    if not isinstance(session, aiohttp.ClientSession):
        return f"must return an aiohttp.ClientSession, not {type(session).__name__}"
    if session.closed:
        return "returned a closed session"
    if not _in_this_loop(session):  # of another loop: left alone, that loop's to close
        return "returned a session of another event loop: make it when called, in its loop"
    if session.raise_for_status is not False:
        return "returned a session with raise_for_status set: the client reads statuses itself"
    if not session.auto_decompress:
        return "returned a session with auto_decompress=False: the client reads bodies decoded"
    if session.trust_env:
        return "returned a session with trust_env=True: pass Client(trust_env=True) instead"
    if session.connector is ours and not session.connector_owner:
        return "returned a session with connector_owner=False: the connector would stay open"
    return None
