"""When a provider key leaks: ``client.byok.find_by_key(raw_key, ...)`` finds the
credentials that carry it, so they can be rotated or disabled.

The API never returns a raw key, only its ``label``: a few characters of each end around
a mask (``"sk-...AbCd"``). So the search compares each credential's label with the key
(:func:`~asyncbyok.labels.label_consistent`), and each credential is one of three:

- **consistent with the key**: the label's visible ends are the key's. It carries the key,
  or a *look-alike*: another key with the same first and last characters has the same
  label, and nothing the API returns tells the two apart. Look-alikes are reported as
  consistent; check the list before changing anything (the guide says how);
- **not the key**: the visible ends differ;
- **too short to tell**: the label shows no characters (a very short stored key), so it
  could be any key. These are counted, and listed, apart.

Items the server lists that this release cannot read as credentials are kept apart too
(``unreadable``), not skipped: they could carry the key.

**Where it looks.** In the workspaces given (default: the account's default workspace),
for one provider or every provider. The API has no search by key: each workspace is
listed, ``ceil(S / 100)`` requests for S credentials, through the client's shared
listings (:mod:`asyncbyok.listings`), so lookups of the same workspace made at the same
time share one listing. A listing started after the call began serves it: a credential
created earlier is never missed.

**Mistakes refused before anything is sent.** A search that finds nothing looks like good
news, so arguments that cannot find anything are refused with a
:class:`~asyncbyok.errors.ValidationError` naming the argument (never showing its value):
a label given as the key (``"sk-...AbCd"``), a provider slug or an id given as the key
(arguments swapped), a key given as the provider or a workspace, a key with surrounding
white space (a newline from a file), one string where a list of workspaces belongs, an
empty list of workspaces.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Sequence

import attrs

from ._validation import UUID_PATTERN
from .errors import FieldError, ValidationError
from .labels import label_consistent, looks_like_label
from .listings import ListKeys, Scope, ScopeIndex, ScopeListings
from .models import BYOKKey, ProviderSlug, UndecodableItem
from .names import check_provider, check_workspace

__all__ = ["KeyMatches", "KeySearch", "check_search", "find", "sort_out"]

#: Workspaces listed at once (each listing fetches several pages at once already).
WORKSPACES_AT_ONCE = 4
#: Shorter than this, a string is no provider key: the visible ends alone are 7 characters.
_MIN_KEY_LENGTH = 8
_PROVIDERS = frozenset(p.value for p in ProviderSlug)


@attrs.frozen
class KeyMatches:
    """What ``client.byok.find_by_key(...)`` found: iterate it (or take ``matches``) for
    the credentials whose label is consistent with the key, look-alikes included.

    ``undetermined`` holds those whose label is too short to tell (``len()`` of it is how
    many); ``searched`` counts every credential looked at; ``workspaces`` and ``provider``
    say where it looked (a workspace ``None`` is the default one; a provider ``None`` is
    every provider). ``unreadable`` holds the items the server listed that this release
    cannot read as credentials (:class:`~asyncbyok.models.UndecodableItem`): they may
    carry the key too, and need a look of their own. The key itself is not kept here.
    """

    matches: tuple[BYOKKey, ...]
    undetermined: tuple[BYOKKey, ...]
    searched: int
    workspaces: tuple[str | None, ...]
    provider: str | None
    unreadable: tuple[UndecodableItem, ...] = ()

    def __iter__(self) -> Iterator[BYOKKey]:
        return iter(self.matches)

    def __len__(self) -> int:
        return len(self.matches)


@attrs.frozen
class KeySearch:
    """A checked ``find_by_key``: the key (never shown) and where to look."""

    raw_key: str = attrs.field(repr=False)
    provider: str | None
    workspaces: tuple[str | None, ...]

    @property
    def scopes(self) -> list[Scope]:
        """One scope per workspace: its provider's credentials, or all of them."""
        return [(self.provider, workspace) for workspace in self.workspaces]


def _raw_key_errors(raw_key: object) -> list[FieldError]:
    """What makes *raw_key* unable to find anything; never shows it."""

    def error(message: str) -> list[FieldError]:
        return [FieldError("raw_key", message + " (the value is not shown)")]

    if not isinstance(raw_key, str):
        return error(f"must be the raw provider key, a string, not {type(raw_key).__name__}")
    if not raw_key.strip():
        return error("must not be empty")
    if raw_key != raw_key.strip():
        return error(
            "must not start or end with white space (a newline, a space): no key would match"
        )
    if looks_like_label(raw_key):
        return error(
            "is a label (the masked form the API shows), not a raw key: pass the key itself"
        )
    if raw_key.lower() in _PROVIDERS:
        return error("is a provider slug, not a raw key: arguments swapped?")
    if UUID_PATTERN.fullmatch(raw_key):
        return error("is an id, not a raw key: arguments swapped?")
    if len(raw_key) < _MIN_KEY_LENGTH:
        return error(f"is too short to be a provider key (under {_MIN_KEY_LENGTH} characters)")
    return []


def _workspaces(workspace_ids: object, errors: list[FieldError]) -> tuple[str | None, ...]:
    if workspace_ids is None:
        return (None,)
    if isinstance(workspace_ids, (str, bytes)) or not isinstance(workspace_ids, Iterable):
        what = "one string" if isinstance(workspace_ids, (str, bytes)) else "something else"
        message = f"must be a list of workspace ids, not {what} (the value is not shown)"
        errors.append(FieldError("workspace_ids", message))
        return ()
    given = list(workspace_ids)
    if not given:
        errors.append(
            FieldError(
                "workspace_ids",
                "is empty: nothing would be searched (None searches the default workspace)",
            )
        )
    for i, workspace in enumerate(given):
        errors += check_workspace(f"workspace_ids[{i}]", workspace)
    seen: dict[str | None, str | None] = {}
    for workspace in given:  # each once, whatever its case
        seen.setdefault(workspace.lower() if isinstance(workspace, str) else None, workspace)
    return tuple(seen.values())


def check_search(raw_key: object, provider: object, workspace_ids: object) -> KeySearch:
    """Check ``find_by_key``'s arguments, before anything is sent (one error naming each)."""
    errors = _raw_key_errors(raw_key)
    errors += check_provider(provider)
    workspaces = _workspaces(workspace_ids, errors)
    if errors:
        raise ValidationError(errors, subject="find_by_key")
    return KeySearch(raw_key, provider, workspaces)  # type: ignore[arg-type]  # checked


def sort_out(search: KeySearch, indexes: Sequence[ScopeIndex]) -> KeyMatches:
    """Each listed credential as consistent with the key, not, or too short to tell."""
    matches: list[BYOKKey] = []
    undetermined: list[BYOKKey] = []
    unreadable: list[UndecodableItem] = []
    searched = 0
    for index in indexes:
        unreadable += index.unreadable
        for found in index:
            searched += 1
            verdict = label_consistent(found.key.label, search.raw_key)
            if verdict is None:
                undetermined.append(found.key)
            elif verdict:
                matches.append(found.key)
    return KeyMatches(
        tuple(matches),
        tuple(undetermined),
        searched,
        search.workspaces,
        search.provider,
        tuple(unreadable),
    )


async def find(search: KeySearch, listings: ScopeListings, list_keys: ListKeys) -> KeyMatches:
    """List every scope of *search* (a listing begun now or later; a few at once) and sort
    out what they hold."""
    started = time.monotonic()
    gate = asyncio.Semaphore(WORKSPACES_AT_ONCE)

    async def listed(scope: Scope) -> ScopeIndex:
        async with gate:
            return await listings.index(scope, since=started, list_keys=list_keys)

    indexes = await asyncio.gather(*(listed(scope) for scope in search.scopes))
    return sort_out(search, indexes)
