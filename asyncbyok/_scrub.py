"""Keeping the management key out of what the client raises and returns.

Two ways a key can come back to us:

- **aiohttp's exceptions.** A malformed answer (a bad status line, a bad header byte,
  thousands of headers) raises ``aiohttp.ClientResponseError``, whose ``request_info``
  holds the request's headers, ``Authorization`` among them, and prints them in its
  ``repr``. The frames of its traceback hold them too, in aiohttp's local variables.
  Error reporters record both, for every exception along the ``__cause__``/``__context__``
  chain. :func:`scrub_chain` makes each exception of such a chain safe to show.
- **A server that echoes the request**, in an error message, a header, or the very line
  that made the answer malformed. :func:`redact` and :func:`redact_response` replace the
  key wherever it appears.

What counts as a secret is read from the request itself (:func:`request_secrets`): the
values of its credential headers, and the token after ``Bearer``. So a key of any shape
is caught, not only those with a known prefix.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "redact",
    "redact_response",
    "request_secrets",
    "scrub_chain",
]

REDACTED = "<redacted>"
_REDACTED_BYTES = REDACTED.encode()

#: Request headers whose values are credentials (lower case).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})

#: Secrets shorter than this are not scrubbed: "k" or "ab" would be found in every word of
#: an answer ("key", "label"), corrupting it, and no key or password that short protects
#: anything. Real management and provider keys are dozens of characters long.
MIN_SECRET_LENGTH = 8

# How many exceptions along one chain are looked at: aiohttp's are three or four deep.
_MAX_CHAIN = 64


def request_secrets(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The secrets in a request's *headers*, longest first.

    Each credential header's value, and its token without the scheme (``Bearer``), so
    that both ``Bearer K`` and a bare ``K`` are found.
    """
    found: set[str] = set()
    for name, value in headers.items():
        if name.lower() not in SECRET_HEADERS or not value:
            continue
        found.add(value)
        token = value.partition(" ")[2].strip()
        if token:
            found.add(token)
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """*text* with every occurrence of each secret replaced by ``<redacted>``."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _in_headers(headers: Mapping[str, str], secrets: tuple[str, ...]) -> bool:
    """Whether any header value holds a secret (one scan of the values per secret)."""
    values = "\n".join(headers.values())
    return any(len(secret) >= MIN_SECRET_LENGTH and secret in values for secret in secrets)


@functools.lru_cache(maxsize=64)
def _encoded(secrets: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(
        secret.encode("utf-8", "replace") for secret in secrets if len(secret) >= MIN_SECRET_LENGTH
    )


def _redact_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    encoded = _encoded(secrets) if type(secrets) is tuple else _encoded(tuple(secrets))
    for raw in encoded:
        if raw in data:
            data = data.replace(raw, _REDACTED_BYTES)
    return data


def _redact_value(value: object, secrets: tuple[str, ...]) -> object:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, bytes):
        return _redact_bytes(value, secrets)
    return value


def redact_response(
    headers: Mapping[str, str], body: bytes, secrets: tuple[str, ...]
) -> tuple[Mapping[str, str], bytes]:
    """A response's *headers* and *body* with the request's secrets replaced.

    A server has no business repeating the key; one that does (a debugging proxy that
    echoes the request in its error page) must not get it into an exception's message.
    The headers keep their type (aiohttp's case-insensitive mapping) when one is changed.
    """
    if not secrets:
        return headers, body
    body = _redact_bytes(body, secrets)
    if _in_headers(headers, secrets):
        copy = getattr(headers, "copy", None)
        redacted: Any = copy() if copy is not None else dict(headers)
        items = [(name, redact(value, secrets)) for name, value in headers.items()]
        redacted.clear()
        for name, value in items:
            if hasattr(redacted, "add"):
                redacted.add(name, value)
            else:
                redacted[name] = value
        headers = redacted
    return headers, body


class ScrubbedError(Exception):
    """Stands in, in a cause chain, for an exception that could not be cleaned.

    Its message is the original's class and message, redacted.
    """


def scrub_chain(exc: BaseException, secrets: tuple[str, ...]) -> BaseException:
    """Make *exc* and every exception behind it safe to show; return what to chain to.

    For each exception along ``__cause__`` and ``__context__``:

    - ``request_info`` (aiohttp) gets a copy of the request's headers with credential
      headers replaced by ``<redacted>``, and ``history`` (earlier responses, each with
      its own ``request_info``) is emptied;
    - string and bytes attributes and ``args`` have the secrets replaced;
    - the traceback is dropped: aiohttp's frames hold the request's headers in their
      local variables, which error reporters record. The class and the message remain.

    An exception that still shows a secret in its ``repr``, ``str`` or attributes after
    that is replaced in the chain by a :class:`ScrubbedError` naming its class; if that
    is *exc* itself, the stand-in is returned.
    """
    chain = _walk(exc)
    for link in chain:
        _scrub_one(link, secrets)
    for link in chain:
        for attr in ("__cause__", "__context__"):
            behind = getattr(link, attr)
            if behind is not None and _shows(behind, secrets):
                setattr(link, attr, _stand_in(behind, secrets))
    return _stand_in(exc, secrets) if _shows(exc, secrets) else exc


def _walk(exc: BaseException) -> list[BaseException]:
    """*exc* and the exceptions behind it (causes and contexts), each once."""
    seen: dict[int, BaseException] = {}
    todo = [exc]
    while todo and len(seen) < _MAX_CHAIN:
        link = todo.pop()
        if id(link) in seen:
            continue
        seen[id(link)] = link
        todo.extend(e for e in (link.__cause__, link.__context__) if e is not None)
    return list(seen.values())


def _scrub_one(exc: BaseException, secrets: tuple[str, ...]) -> None:
    exc.__traceback__ = None
    # aiohttp passes request_info and history to Exception.__init__ too: the same objects
    # are in args, and are replaced there as well.
    replaced: dict[int, object] = {}
    info = getattr(exc, "request_info", None)
    if info is not None and hasattr(info, "headers"):
        # Something else than aiohttp's RequestInfo stays as it is: the final check decides.
        with contextlib.suppress(AttributeError, TypeError):
            replaced[id(info)] = _redacted_request_info(info, secrets)
            exc.request_info = replaced[id(info)]  # type: ignore[attr-defined]
    history = getattr(exc, "history", None)
    if history:
        with contextlib.suppress(AttributeError):
            exc.history = replaced[id(history)] = ()  # type: ignore[attr-defined]
    args = tuple(replaced.get(id(arg), _redact_value(arg, secrets)) for arg in exc.args)
    if args != exc.args:
        exc.args = args
    state = getattr(exc, "__dict__", None)
    if state is not None:
        for name, value in list(state.items()):
            if isinstance(value, (str, bytes)):
                state[name] = _redact_value(value, secrets)
            elif name == "__notes__" and isinstance(value, list):
                state[name] = [_redact_value(note, secrets) for note in value]


def _redacted_request_info(info: Any, secrets: tuple[str, ...]) -> Any:
    """A copy of aiohttp's ``RequestInfo`` whose credential headers read ``<redacted>``."""
    headers = info.headers.copy()  # a CIMultiDict: the same class aiohttp built them with
    items = [
        (name, REDACTED if name.lower() in SECRET_HEADERS else redact(value, secrets))
        for name, value in headers.items()
    ]
    headers.clear()
    for name, value in items:
        headers.add(name, value)
    proxy = type(info.headers)(headers)  # read-only again, as aiohttp hands it out
    return type(info)(info.url, info.method, proxy, info.real_url)


def _shows(exc: BaseException, secrets: tuple[str, ...]) -> bool:
    """Whether *exc* shows a secret in its ``repr``, ``str`` or attributes (or can't tell)."""
    if not secrets:
        return False
    try:
        state = getattr(exc, "__dict__", {})
        texts = [repr(exc), str(exc), *(repr(v) for v in state.values())]
    except Exception:  # a repr that fails can't be vouched for
        return True
    return any(
        len(secret) >= MIN_SECRET_LENGTH and secret in text for text in texts for secret in secrets
    )


def _stand_in(exc: BaseException, secrets: tuple[str, ...]) -> ScrubbedError:
    kind = type(exc)
    try:
        message = redact(str(exc), secrets)
    except Exception:
        message = "(its message could not be read)"
    stand_in = ScrubbedError(f"{kind.__module__}.{kind.__qualname__}: {message}")
    stand_in.__suppress_context__ = True
    return stand_in
