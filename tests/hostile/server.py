"""A hostile HTTP/1.1 server on loopback: one way of misbehaving per mode.

The emulator is a well-behaved ``aiohttp.web`` application: it cannot send a broken
status line, a gzip bomb or a body that never ends. This server speaks HTTP/1.1 by hand
over :func:`asyncio.start_server`, so it can. The first segment of the request path names
the mode, so one server serves them all::

    async with HostileServer() as server:
        client = Client(api_key=..., base_url=server.base_url("gzip-bomb"))

Every mode reads the whole request first (line, headers, body), then answers as
:data:`MODES` says. ``server.hits[mode]`` counts the requests each mode got, so a test can
tell whether the client retried. Large bodies are streamed, never built in memory, except
the compressed bombs (about 1 KB on the wire per MiB they expand to).
"""

from __future__ import annotations

import asyncio
import functools
import json
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from types import TracebackType

import attrs

__all__ = ["MODES", "HostileServer", "Request", "Sizes", "deflate_bomb"]

MiB = 1 << 20
_ZEROS = bytes(MiB)


@attrs.frozen
class Request:
    """What the client sent: request line, headers (lower-cased names), body."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@attrs.frozen
class Sizes:
    """How big the big answers are (the defaults are the security review's figures)."""

    bomb: int = 1 << 30  # what a compressed bomb expands to (about 1 MB on the wire)
    huge_body: int = 400 * MiB
    error_message: int = 50 * MiB


Mode = Callable[["_Exchange"], Awaitable[None]]
MODES: dict[str, Mode] = {}


def mode(name: str) -> Callable[[Mode], Mode]:
    def register(func: Mode) -> Mode:
        MODES[name] = func
        return func

    return register


@functools.lru_cache(maxsize=8)
def deflate_bomb(size: int, framing: str) -> bytes:
    """*size* zero bytes (a multiple of 1 MiB), deflated, in ``gzip``, ``zlib`` (what HTTP
    calls ``deflate``) or ``raw`` framing.

    Built in well under a second, not by compressing *size* bytes: after a full flush the
    compressor starts afresh, so every MiB of zeros compresses to the same bytes.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    unit = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    deflated = unit * (size // MiB) + compressor.flush()
    if framing == "raw":
        return deflated
    if framing == "zlib":
        adler = 1
        for _ in range(size // MiB):
            adler = zlib.adler32(_ZEROS, adler)
        return b"\x78\xda" + deflated + adler.to_bytes(4, "big")
    crc = 0
    for _ in range(size // MiB):
        crc = zlib.crc32(_ZEROS, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + deflated + crc.to_bytes(4, "little") + (size % 2**32).to_bytes(4, "little")


@attrs.define
class _Exchange:
    """One request and the stream to answer it on."""

    request: Request
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    sizes: Sizes

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, status: str, *headers: str) -> None:
        """The status line (``"200 OK"``) and headers, then the blank line."""
        lines = [f"HTTP/1.1 {status}", *headers, "", ""]
        await self.send("\r\n".join(lines).encode("latin-1"))

    async def stream(self, chunk: bytes, total: int | None) -> None:
        """*chunk* again and again, up to *total* bytes (``None``: until the client leaves)."""
        sent = 0
        while total is None or sent < total:
            piece = chunk if total is None else chunk[: total - sent]
            await self.send(piece)
            sent += len(piece)

    async def hang(self) -> None:
        """Say nothing more until the client closes the connection."""
        while await self.reader.read(64 * 1024):
            pass

    @property
    def authorization(self) -> str:
        return self.request.headers.get("authorization", "")


def _json_answer(status: str, body: bytes, *extra: str) -> Mode:
    async def answer(ex: _Exchange) -> None:
        headers = ["Content-Type: application/json", f"Content-Length: {len(body)}", *extra]
        await ex.head(status, *headers)
        await ex.send(body)

    return answer


# -- malformed status lines and headers ---------------------------------------------------


def _raw(answer_bytes: bytes) -> Mode:
    async def answer(ex: _Exchange) -> None:
        await ex.send(answer_bytes)

    return answer


for _name, _head in {
    "status-garbage": b"HTTP/1.1 2OO OK\r\n\r\n",
    "status-not-http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "status-binary": b"\x00\xff\xfe\x01garbage\r\n\r\n",
    "status-huge": b"HTTP/1.1 200 " + b"O" * (1 * MiB) + b"\r\n\r\n",
    "header-bad-byte": b"HTTP/1.1 200 OK\r\nX-Bad\x01Name: v\r\nContent-Length: 2\r\n\r\n{}",
    "header-nul-value": b"HTTP/1.1 200 OK\r\nX-Bad: a\x00b\r\nContent-Length: 2\r\n\r\n{}",
    "header-no-colon": b"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 2\r\n\r\n{}",
    "header-huge": b"HTTP/1.1 200 OK\r\nX-Huge: " + b"h" * (1 * MiB) + b"\r\n\r\n",
    "headers-thousands": b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(10_000))
    + b"Content-Length: 2\r\n\r\n{}",
    "length-and-chunked": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "length-negative": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
    "chunk-size-garbage": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n",
    "gzip-corrupt": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\n"
    b"\x1f\x8b\x08\x00garbage!",
    "close-mid-body": b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"data": [',
}.items():
    mode(_name)(_raw(_head))


@mode("echo-in-status-line")
async def _echo_in_status_line(ex: _Exchange) -> None:
    """A broken status line that quotes the request's Authorization header."""
    await ex.send(f"HTTP/1.1 2x0 {ex.authorization}\x01\r\n\r\n".encode())


@mode("echo-in-header-line")
async def _echo_in_header_line(ex: _Exchange) -> None:
    """A broken header line that quotes the Authorization header."""
    await ex.send(f"HTTP/1.1 200 OK\r\nEcho {ex.authorization}\x01\r\n\r\n".encode())


@mode("echo-in-error")
async def _echo_in_error(ex: _Exchange) -> None:
    """A 400 quoting the Authorization header in its message and in a header."""
    body = f'{{"error": {{"code": 400, "message": "bad: {ex.authorization}"}}}}'.encode()
    await _json_answer("400 Bad Request", body, f"X-Echo: {ex.authorization}")(ex)


@mode("echo-body-in-error")
async def _echo_body_in_error(ex: _Exchange) -> None:
    """A 400 quoting the request's body (a create's raw provider key) in its message and
    in a header, as a server reporting what it could not accept might."""
    echoed = ex.request.body.decode("utf-8", "replace").replace('"', "'")
    body = json.dumps({"error": {"code": 400, "message": f"cannot accept {echoed}"}}).encode()
    await _json_answer("400 Bad Request", body, f"X-Echo: {echoed}")(ex)


# -- compression bombs and big bodies -----------------------------------------------------


def _bomb(encoding: str, framing: str) -> Mode:
    async def answer(ex: _Exchange) -> None:
        body = deflate_bomb(ex.sizes.bomb, framing)
        headers = ["Content-Type: application/json", f"Content-Encoding: {encoding}"]
        await ex.head("200 OK", *headers, f"Content-Length: {len(body)}")
        await ex.send(body)

    return answer


mode("gzip-bomb")(_bomb("gzip", "gzip"))
mode("deflate-bomb")(_bomb("deflate", "zlib"))
mode("deflate-raw-bomb")(_bomb("deflate", "raw"))


@mode("huge-body")
async def _huge_body(ex: _Exchange) -> None:
    size = ex.sizes.huge_body
    await ex.head("200 OK", "Content-Type: application/json", f"Content-Length: {size}")
    await ex.stream(b" " * (64 * 1024), size)


@mode("huge-body-chunked")
async def _huge_body_chunked(ex: _Exchange) -> None:
    """As ``huge-body``, but chunked: no Content-Length to refuse it by."""
    await ex.head("200 OK", "Content-Type: application/json", "Transfer-Encoding: chunked")
    piece = b" " * (64 * 1024)
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    await ex.stream(chunk, ex.sizes.huge_body // len(piece) * len(chunk))
    await ex.send(b"0\r\n\r\n")


@mode("huge-content-length")
async def _huge_content_length(ex: _Exchange) -> None:
    """Claims a terabyte, sends a few bytes, then waits."""
    await ex.head("200 OK", "Content-Type: application/json", f"Content-Length: {10**12}")
    await ex.send(b'{"data": ')
    await ex.hang()


@mode("endless-chunked")
async def _endless_chunked(ex: _Exchange) -> None:
    await ex.head("200 OK", "Content-Type: application/json", "Transfer-Encoding: chunked")
    piece = b" " * (64 * 1024)
    await ex.stream(b"%x\r\n%s\r\n" % (len(piece), piece), None)


@mode("endless-until-close")
async def _endless_until_close(ex: _Exchange) -> None:
    """No length, no chunks: the body is whatever comes until the connection closes."""
    await ex.head("200 OK", "Content-Type: application/json", "Connection: close")
    await ex.stream(b"[" * (64 * 1024), None)


@mode("error-huge-message")
async def _error_huge_message(ex: _Exchange) -> None:
    """A 500 whose JSON error message is ``sizes.error_message`` bytes long."""
    prefix, suffix = b'{"error": {"code": 500, "message": "', b'"}}'
    size = ex.sizes.error_message
    length = len(prefix) + size + len(suffix)
    await ex.head("500 Internal Server Error", f"Content-Length: {length}")
    await ex.send(prefix)
    await ex.stream(b"e" * (64 * 1024), size)
    await ex.send(suffix)


mode("error-long-message")(
    _json_answer(
        "400 Bad Request",
        b'{"error": {"code": 400, "message": "' + b"m" * (2 * MiB) + b'"}}',
    )
)

# -- bodies that are not what they claim --------------------------------------------------

_DEEP = 100_000
for _name, _status, _body in (
    ("json-invalid", "200 OK", b'{"data": [{"id": '),
    ("json-not-utf8", "200 OK", b"\xff\xfe\x00{\x00}"),
    ("json-nested", "200 OK", b"[" * _DEEP + b"]" * _DEEP),
    ("json-nested-in-data", "200 OK", b'{"data": ' + b"[" * _DEEP + b"]" * _DEEP + b"}"),
    ("json-nested-medium", "200 OK", b'{"data": ' + b"[" * 900 + b"]" * 900 + b"}"),
    ("json-huge-number", "200 OK", b'{"data": [], "total_count": ' + b"9" * 100_000 + b"}"),
    ("json-nested-error", "500 Internal Server Error", b"[" * _DEEP + b"]" * _DEEP),
    (
        "json-nested-error-medium",
        "400 Bad Request",
        b'{"error": {"code": 400, "message": "x", "metadata": {"a": '
        + b"[" * 900
        + b"]" * 900
        + b"}}}",
    ),
    ("status-999", "999 Weird", b'{"error": {"code": 999, "message": "weird"}}'),
):
    mode(_name)(_json_answer(_status, _body))

mode("redirect-away")(_json_answer("302 Found", b"{}", "Location: http://192.0.2.1/steal"))


# -- hangs and cut connections ------------------------------------------------------------


@mode("hang")
async def _hang(ex: _Exchange) -> None:
    await ex.hang()


@mode("hang-mid-headers")
async def _hang_mid_headers(ex: _Exchange) -> None:
    await ex.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    await ex.hang()


@mode("hang-mid-body")
async def _hang_mid_body(ex: _Exchange) -> None:
    await ex.head("200 OK", "Content-Length: 1000")
    await ex.send(b'{"data": [')
    await ex.hang()


@mode("trickle")
async def _trickle(ex: _Exchange) -> None:
    """One byte of an endless chunked body every 10 ms: never silent, never done."""
    await ex.head("200 OK", "Transfer-Encoding: chunked")
    while True:
        await ex.send(b"1\r\n \r\n")
        await asyncio.sleep(0.01)


@mode("endless-1xx")
async def _endless_1xx(ex: _Exchange) -> None:
    """Informational answers, one after another, and never the final one."""
    while True:
        await ex.send(b"HTTP/1.1 102 Processing\r\n\r\n")
        await asyncio.sleep(0.01)


@mode("close-at-once")
async def _close_at_once(ex: _Exchange) -> None:
    return  # the connection closes without a byte of answer


# -- the server ---------------------------------------------------------------------------


async def _read_request(reader: asyncio.StreamReader) -> Request:
    head = await reader.readuntil(b"\r\n\r\n")
    line, *fields = head.decode("latin-1").split("\r\n")
    method, target, _ = line.split(" ", 2)
    headers = {}
    for field in fields:
        name, sep, value = field.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Request(method, target, headers, body)


class HostileServer:
    """The misbehaving server on ``127.0.0.1`` (a free port), as an async context."""

    def __init__(self, sizes: Sizes | None = None) -> None:
        self.sizes = sizes or Sizes()
        self.hits: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def base_url(self, name: str) -> str:
        """The base URL that gets mode *name*'s answers."""
        if name not in MODES:
            raise KeyError(f"no hostile mode {name!r}")
        assert self._server is not None, "not started"
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/{name}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await _read_request(reader)
            name = request.target.split("/")[1]
            self.hits[name] += 1
            await MODES[name](_Exchange(request, reader, writer, self.sizes))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up (as it should, often): nobody left to answer
        except asyncio.CancelledError:
            return  # the server is closing: this answer ends here
        finally:
            self._tasks.discard(task)
            writer.close()

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
