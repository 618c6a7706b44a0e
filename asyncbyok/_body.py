"""Reading a response body within ``Limits.max_response_size``.

aiohttp decompresses gzip and deflate as the body streams in, a bounded amount at a time
(since 3.14; asyncbyok requires 3.14.1), and ``response.read()`` would keep all of it.
Here the body is read a chunk at a time and the decompressed bytes counted, so a 1 MB
gzip bomb that would expand to 1 GiB, or a body that never ends, stops once the limit is
passed. A ``Content-Length`` over the limit is refused before anything is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._headers import find_request_id
from .errors import ResponseTooLargeError

if TYPE_CHECKING:
    import aiohttp

__all__ = ["read_body"]


async def read_body(
    response: aiohttp.ClientResponse, limit: int, *, method: str, url: str
) -> bytes:
    """The body of *response*; :class:`~asyncbyok.errors.ResponseTooLargeError` past
    *limit* bytes (decompressed), with the connection closed, not drained."""
    declared = response.content_length
    if declared is not None and declared > limit:
        response.close()
        raise _too_large(response, limit, declared, "its Content-Length", method, url)
    if declared is not None and "Content-Encoding" not in response.headers:
        # The common answer: its length known and within the limit, nothing to expand.
        return await response.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            chunks.clear()  # the exception may outlive this frame; the bytes need not
            response.close()
            raise _too_large(response, limit, size, "reading stopped at", method, url)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(
    response: aiohttp.ClientResponse,
    limit: int,
    received: int,
    what: str,
    method: str,
    url: str,
) -> ResponseTooLargeError:
    status = response.status
    return ResponseTooLargeError(
        f"{status} response body over max_response_size ({limit} bytes; {what} {received}):"
        " raise it with Limits(max_response_size=...) if the API really sends that much",
        limit=limit,
        received=received,
        status_code=status,
        request_id=find_request_id(response.headers),
        method=method,
        url=url,
    )
