"""Building requests: pure functions, no sockets.

The transport (:mod:`asyncbyok.transport`) only moves bytes; what a request means
(URL, headers, body) is built here, and what an answer means is read in
:mod:`asyncbyok.response`, so both can be tested with recorded payloads (the gidgethub
way).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

import attrs

from . import codec
from ._constants import MAX_PAGE_SIZE
from ._sentinel import UNSET, Unset
from ._validation import UUID_PATTERN, uuid_message
from ._version import __version__
from .errors import FieldError, InsecureURLError, ValidationError

__all__ = [
    "USER_AGENT",
    "HTTPRequest",
    "build_headers",
    "build_request",
    "check_base_url",
    "check_headers",
    "key_path",
    "list_query",
    "merge_headers",
]


USER_AGENT = f"asyncbyok/{__version__}"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,9}")


@attrs.frozen(repr=False)
class HTTPRequest:
    """One request, ready to send. Its ``repr`` hides the headers (they carry the key).

    ``secrets`` are the values in the headers that no answer, log or error may repeat
    (the management key): the transport scrubs them from what a server sends back.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"HTTPRequest({self.method} {self.url})"


def is_loopback(host: str | None) -> bool:
    """Whether *host* names this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _base_url_error(message: str) -> ValidationError:
    return ValidationError([FieldError("base_url", message)], subject="Client")


def check_base_url(base_url: str, *, allow_insecure_http: bool = False) -> str:
    """The base URL without a trailing slash; refuses ``http://`` beyond loopback.

    The management key is a bearer token: over plain HTTP anyone on the path can read it.
    Loopback (the emulator, a local proxy) is allowed; elsewhere pass
    ``allow_insecure_http=True`` to accept the risk explicitly
    (:class:`~asyncbyok.errors.InsecureURLError` otherwise).

    A URL that is not one the client can use raises
    :class:`~asyncbyok.errors.ValidationError` naming ``base_url``, and never quotes it:
    a scheme other than http(s), no host, or a user name and password
    (``https://user:pass@host``), which the client would not send anyway (it
    authenticates with its API key) and which would otherwise show in ``repr(client)``.
    """
    if not isinstance(base_url, str):
        raise _base_url_error(f"must be a string, not {type(base_url).__name__}")
    try:
        parsed = urllib.parse.urlsplit(base_url)
        hostname, userinfo = parsed.hostname, "@" in parsed.netloc
    except ValueError:  # an unbalanced "[" in the host, a port that is no number ...
        raise _base_url_error("is not a valid URL") from None
    if parsed.scheme not in ("http", "https"):
        # The scheme is named only when it looks like one: base_url may be a pasted key.
        scheme = parsed.scheme if _SCHEME.fullmatch(parsed.scheme) else ""
        got = f", not {scheme}://" if scheme else ""
        raise _base_url_error(f"must start with https:// (or http:// for loopback){got}")
    if userinfo:
        raise _base_url_error(
            "must not hold a user name or password (user:pass@host): the client "
            "authenticates with its API key; remove them from the URL"
        )
    if not hostname:
        raise _base_url_error(f"must name a host, as in {parsed.scheme}://openrouter.ai/api/v1")
    try:
        parsed.port  # noqa: B018 - read for its check: a number from 0 to 65535
    except ValueError:
        raise _base_url_error("has a port that is not a number from 0 to 65535") from None
    if parsed.scheme == "http" and not allow_insecure_http and not is_loopback(hostname):
        raise InsecureURLError(
            f"refusing to send the management key over plain http to {hostname}: "
            "use https, or pass allow_insecure_http=True"
        )
    return base_url.rstrip("/")


def build_headers(
    api_key: str | None,
    *,
    app_url: str | None = None,
    app_title: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers every request carries: auth, user agent, optional attribution.

    ``api_key=None``: no ``Authorization`` here (a rotating key is added per attempt).
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if api_key is not None:
        headers = {"Authorization": f"Bearer {api_key}", **headers}
    if app_url:
        headers["HTTP-Referer"] = app_url
    if app_title:
        headers["X-OpenRouter-Title"] = app_title
    if extra:
        return merge_headers(headers, extra)
    return headers


def merge_headers(headers: Mapping[str, str], more: Mapping[str, str]) -> dict[str, str]:
    """*headers* and *more*, a name in *more* replacing the same name in any case (a
    dict is case-sensitive: ``authorization`` would otherwise go out beside
    ``Authorization``)."""
    names = {name.lower() for name in more}
    return {**{k: v for k, v in headers.items() if k.lower() not in names}, **more}


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110's header name


def check_headers(headers: object, argument: str) -> dict[str, str]:
    """*headers* as a dict, once every name is a header name and every value a string
    without a line break; else :class:`~asyncbyok.errors.ValidationError` naming each bad
    entry (``extra_headers['X-Trace']``), values never repeated (one may be a token).
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ValidationError(
            [
                FieldError(
                    argument, f"must be a mapping of names to values, not {type(headers).__name__}"
                )
            ],
            subject="request",
        )
    errors = []
    for name, value in headers.items():
        where = f"{argument}[{name!r}]"
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            errors.append(FieldError(where, "is not a header name"))
        elif not isinstance(value, str):
            errors.append(FieldError(where, f"must be a string, not {type(value).__name__}"))
        elif any(c in value for c in "\r\n\0"):
            errors.append(FieldError(where, "must not hold a line break or a NUL"))
    if errors:
        raise ValidationError(errors, subject="request")
    return dict(headers)


def _uuid_error(argument: str, value: object) -> FieldError | None:
    """What is wrong with *value* as a UUID argument, or ``None`` when it is one."""
    if not isinstance(value, str):
        return FieldError(argument, f"must be a UUID string, not {type(value).__name__}")
    if not UUID_PATTERN.fullmatch(value):
        return FieldError(argument, uuid_message(value))
    return None


def key_path(key_id: str) -> str:
    """``/byok/{id}``; the id must be a UUID, as the API's ids are.

    Anything else (``""``, ``".."``, ``"a/b"``, an id with a newline) raises
    :class:`~asyncbyok.errors.ValidationError` naming ``key_id``, and nothing is sent: such
    a string could only ever address another path.
    """
    error = _uuid_error("key_id", key_id)
    if error is not None:
        raise ValidationError([error], subject="request")
    return "/byok/" + key_id


def list_query(
    *,
    offset: int = 0,
    limit: int | None = None,
    workspace_id: str | Unset = UNSET,
    provider: str | Unset = UNSET,
) -> dict[str, str]:
    """The query string of ``GET /byok``, checked against the API's limits.

    ``limit`` is 1 to ``MAX_PAGE_SIZE`` (100); ``workspace_id`` must
    be a UUID. Every bad argument is named in one ``ValidationError``.
    """
    errors = []
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        errors.append(FieldError("offset", "must be an integer >= 0"))
    if limit is not None and (
        not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_SIZE
    ):
        errors.append(FieldError("limit", f"must be an integer from 1 to {MAX_PAGE_SIZE}"))
    workspace_error = UNSET if workspace_id is UNSET else _uuid_error("workspace_id", workspace_id)
    if workspace_error:
        errors.append(workspace_error)
    if provider is not UNSET and (not isinstance(provider, str) or not provider):
        errors.append(FieldError("provider", "must be a non-empty string"))
    if errors:
        raise ValidationError(errors, subject="list query")
    query = {"offset": str(offset)}
    if limit is not None:
        query["limit"] = str(limit)
    if workspace_id is not UNSET:
        query["workspace_id"] = workspace_id
    if provider is not UNSET:
        query["provider"] = str(provider)
    return query


def build_request(
    method: str,
    base_url: str,
    path: str,
    headers: Mapping[str, str],
    *,
    query: Mapping[str, str] | None = None,
    json_body: Any = None,
    secrets: tuple[str, ...] = (),
) -> HTTPRequest:
    """Assemble a request: URL from base, path and query; body as compact JSON."""
    url = base_url + path
    if query:
        url += "?" + urllib.parse.urlencode(query)
    body = None
    if json_body is not None:
        body = codec.dumps(json_body)
        headers = {**headers, "Content-Type": "application/json"}
    return HTTPRequest(method, url, headers, body, secrets)
