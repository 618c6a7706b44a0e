"""Safe writes: a create or delete whose outcome is unknown never misreports.

The API has no idempotency keys. When a ``POST /byok`` or ``DELETE /byok/{id}`` fails
ambiguously (the connection dropped or timed out after the request was sent, or the
server answered 5xx or 408), it may nonetheless have done its work. From then on, for the
rest of that call, every resend is preceded by a lookup (:mod:`asyncbyok.retry` runs it):

**Create.** The client lists the credentials of the request's provider and workspace,
in a listing that started after the failure, and takes one as the create's own result
only when

- it has the same ``name`` (``null`` when the request had none),
- every other field the request set has the value it asked for (``allowed_models``,
  ``disabled``, ``declared_region`` ...),
- its ``label`` is consistent with the raw key (same visible first/last characters),
- its ``created_at`` is no earlier than the first attempt, less an allowance for clock
  skew, and
- no other create of this client has already taken it.

Anything else means the attempt stored nothing: the create is sent again.

**Delete.** A DELETE is idempotent: it is simply sent again, and a 404 to a resend after
an ambiguous attempt means that attempt deleted it (the call returns as deleted).

A lookup that fails ends the call with the write's own error (its method, URL and
attempts), the lookup's error chained as ``__cause__``: the credential's state is then
unknown, and the error says so rather than reading as a failed read. Lookups end by the
call's deadline and run under the calling client's retry policy.

**Cost.** The API documents no listing order, so a lookup cannot stop early at the
newest credentials: it lists the scope in full, ``ceil(S / 100)`` requests for a scope of
S credentials. Listings are shared (:mod:`asyncbyok.listings`): concurrent failures join
one listing, and one arriving while a listing runs joins the next, so F failures spread
over T seconds cost at most about ``T / (duration of a listing) + 1`` listings, not F. In
``create_many`` (and ``ensure_many``, ``apply``) failures are parked and settled
together: one listing per scope, plus one per round of resends that fail again
(:mod:`asyncbyok.bulk`).

Limits, stated plainly:

- With a unique ``name`` the match is exact. Without one, two unnamed creates of keys
  that share their visible ends and settings, made in the same few minutes by other
  clients, cannot be told apart; the oldest unclaimed one is returned. Name your
  credentials, or use ``client.byok.ensure(...)``.
- A request the server is still working on when our timeout fires may commit after the
  lookup found nothing; the resend then makes a second credential. A timeout longer than
  the server's worst latency closes this gap.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import attrs

from ._constants import SAFE_CREATE_CLOCK_SKEW
from ._sentinel import UNSET
from .bulk import parking
from .errors import APIConnectionError, APIError, APIStatusError, NotFoundError
from .labels import label_consistent
from .listings import Found, ListKeys, ScopeIndex, ScopeListings, scope_of
from .models import BYOKKey, CreateBYOKKeyRequest, DeleteResult, request_fields
from .response import APIResponse

__all__ = ["Claims", "SafeCreate", "SafeDelete", "is_ambiguous", "matches"]

# Fields matched by scope or by rule of their own, not by value.
_MATCHED_APART = frozenset({"provider", "key", "workspace_id", "name"})

Clock = Callable[[], float]
T = TypeVar("T")
_Facts = tuple[int, Mapping[str, str], "str | None"]  # status, headers, request id


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a failed write may nonetheless have been carried out by the server."""
    if isinstance(exc, APIConnectionError):
        return exc.request_sent
    return isinstance(exc, APIStatusError) and (exc.status >= 500 or exc.status == 408)


def matches(key: BYOKKey, request: CreateBYOKKeyRequest) -> bool:
    """Whether *key* holds every value *request* set (scope, name, label and time apart).

    A field the server did not send (an older server) cannot disagree.
    """
    for field in request_fields(CreateBYOKKeyRequest):
        if field.name in _MATCHED_APART:
            continue
        wanted = getattr(request, field.name)
        if wanted is UNSET:
            continue
        have = getattr(key, field.name, UNSET)
        if have is not UNSET and have != wanted:
            return False
    return True


class Claims:
    """Ids this client's creates returned, remembered for *horizon* seconds. One per
    client (shared by its copies): a credential is the result of one create only.

    A lookup only considers credentials created in the last few minutes (the clock-skew
    allowance), so older claims can go: a long-lived client does not grow without bound.
    """

    def __init__(
        self, *, horizon: float = 2 * SAFE_CREATE_CLOCK_SKEW, clock: Clock = time.monotonic
    ) -> None:
        self._horizon = horizon
        self._clock = clock
        self._ids: set[str] = set()
        self._order: collections.deque[tuple[float, str]] = collections.deque()

    def add(self, key_id: str) -> None:
        now = self._clock()
        self._ids.add(key_id)
        self._order.append((now, key_id))
        while self._order[0][0] < now - self._horizon:
            self._ids.discard(self._order.popleft()[1])

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def take(self, index: ScopeIndex, request: CreateBYOKKeyRequest, since: float) -> Found | None:
        """The credential *request* made, if *index* shows it; claimed if so."""
        name = None if request.name is UNSET else request.name
        candidates = [
            found
            for found in index.named(name)
            if found.key.id not in self
            and _created_since(found.key, since)
            and label_consistent(found.key.label, request.key) is not False
            and matches(found.key, request)
        ]
        if not candidates:
            return None
        best = min(candidates, key=lambda f: _sort_time(f.key))
        self.add(best.key.id)
        return best


def _created_since(key: BYOKKey, since: float) -> bool:
    created = key.created_at
    if created is None:  # a timestamp in no known form: time can't rule it out
        return True
    return created.timestamp() >= since


def _sort_time(key: BYOKKey) -> float:
    return 0.0 if key.created_at is None else key.created_at.timestamp()


@attrs.define
class SafeCreate:
    """The :class:`~asyncbyok.retry.Reconciliation` of one create call.

    Its lookups list the request's scope through *listings* with *list_keys* (the
    calling client's, so under its policy); inside a bulk run they park there instead,
    to be settled with the run's other failures (:mod:`asyncbyok.bulk`).
    """

    request: CreateBYOKKeyRequest
    claims: Claims
    listings: ScopeListings
    list_keys: ListKeys
    method: str
    url: str
    since: float = attrs.field(factory=lambda: time.time() - SAFE_CREATE_CLOCK_SKEW)
    started: float = attrs.field(factory=time.monotonic)

    def may_have_committed(self, exc: APIError) -> bool:
        return is_ambiguous(exc)

    async def lookup(self, *, failed_at: float, attempts: int) -> APIResponse[BYOKKey] | None:
        scope = scope_of(self.request.provider, self.request.workspace_id)
        run = parking()
        if run is not None and run.can_park:
            index = await run.park(scope, since=failed_at)
        else:
            index = await self.listings.index(scope, since=failed_at, list_keys=self.list_keys)
        found = self.claims.take(index, self.request, self.since)
        if found is None:
            return None
        facts = (found.status, found.headers, found.request_id)
        return _recovered(found.key, facts, attempts, self.started, self.method, self.url)

    def settle(self, exc: APIError, *, attempts: int) -> APIResponse[BYOKKey] | None:
        return None  # no answer to a create proves an earlier attempt stored it


@attrs.define
class SafeDelete:
    """The :class:`~asyncbyok.retry.Reconciliation` of one delete call.

    A DELETE is idempotent: after an ambiguous attempt it is sent again with no lookup,
    and a 404 to the resend means the earlier attempt deleted it.
    """

    method: str
    url: str
    started: float = attrs.field(factory=time.monotonic)

    def may_have_committed(self, exc: APIError) -> bool:
        return is_ambiguous(exc)

    async def lookup(self, *, failed_at: float, attempts: int) -> APIResponse[DeleteResult] | None:
        return None  # send it again: a second DELETE of a deleted credential is a 404

    def settle(self, exc: APIError, *, attempts: int) -> APIResponse[DeleteResult] | None:
        if isinstance(exc, NotFoundError):  # an earlier attempt of ours deleted it
            facts = (exc.status_code, exc.headers, exc.request_id)
            return _recovered(
                DeleteResult(deleted=True), facts, attempts, self.started, self.method, self.url
            )
        return None


def _recovered(
    parsed: T, facts: _Facts, attempts: int, started: float, method: str, url: str
) -> APIResponse[T]:
    """The response of a call settled by a lookup: the lookup's facts, the call's name."""
    status, headers, request_id = facts
    return APIResponse(
        parsed,
        status,
        headers,
        request_id,
        attempts,
        time.monotonic() - started,
        method,
        url,
        recovered=True,
    )
