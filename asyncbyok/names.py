"""Credentials by name: ``client.byok.get_by_name(...)`` and ``client.byok.list(name=...)``.

The API has no filter by name. A name is looked up by listing the workspace (one
provider's credentials, or every provider's) and comparing names here: an exact match,
case and spaces included. That costs ``ceil(S / 100)`` requests for S credentials listed,
shared with any lookup of the same scope running at the same time
(:mod:`asyncbyok.listings`).

Names are not unique: the API lets several credentials share one. ``get_by_name`` raises
:class:`~asyncbyok.errors.DuplicateNameError` (holding each of them) rather than choose,
and :class:`~asyncbyok.errors.NotFoundError` when there is none.

A name that looks like a raw key is refused before anything is sent: an error saying it
was not found would repeat it, and a key is never a credential's name by intent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._keyshape import KEY_SHAPED_NAME, KEY_TOKEN, looks_like_key
from ._validation import UUID_PATTERN
from .errors import DuplicateNameError, FieldError, NotFoundError, ValidationError
from .listings import Found, Scope

__all__ = ["check_name", "check_provider", "check_workspace", "lookup_scope", "only_one"]

# Provider slugs as the API spells them ("openai", "amazon-bedrock"); a label or a URL given
# as a provider is none.
_SLUG = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")


def check_name(name: object) -> list[FieldError]:
    """What is wrong with *name* as a name to look up (none: ``[]``)."""
    if not isinstance(name, str) or not name:
        return [FieldError("name", "must be a non-empty string (the exact name)")]
    if KEY_TOKEN.search(name) or looks_like_key(name):
        return [FieldError("name", KEY_SHAPED_NAME)]
    return []


def check_provider(provider: object) -> list[FieldError]:
    """What is wrong with *provider* (``None``: every provider)."""
    if provider is None:
        return []
    if not isinstance(provider, str) or not provider:
        return [FieldError("provider", "must be a provider slug such as 'openai', or None")]
    if looks_like_key(provider):
        return [
            FieldError("provider", "looks like a raw key, not a provider (the value is not shown)")
        ]
    if not _SLUG.fullmatch(provider):
        return [
            FieldError(
                "provider", "must be a provider slug such as 'openai' (the value is not shown)"
            )
        ]
    return []


def check_workspace(path: str, workspace_id: object) -> list[FieldError]:
    """What is wrong with *workspace_id* (``None``: the default workspace); the value is
    shown only when it cannot be a key."""
    if workspace_id is None:
        return []
    if isinstance(workspace_id, str) and UUID_PATTERN.fullmatch(workspace_id):
        return []
    if isinstance(workspace_id, str) and not looks_like_key(workspace_id):
        shown = workspace_id if len(workspace_id) <= 60 else workspace_id[:60] + "..."
        return [FieldError(path, f"must be a workspace id (a UUID), not {shown!r}")]
    return [FieldError(path, "must be a workspace id (a UUID) or None (the value is not shown)")]


def lookup_scope(name: object, provider: object, workspace_id: object) -> Scope:
    """The scope ``get_by_name`` lists, after checking every argument (one error)."""
    errors = [
        *check_name(name),
        *check_provider(provider),
        *check_workspace("workspace_id", workspace_id),
    ]
    if errors:
        raise ValidationError(errors, subject="get_by_name")
    return (provider, workspace_id)  # type: ignore[return-value]  # checked above


def only_one(named: Sequence[Found], name: str, scope: Scope, url: str) -> Found:
    """The one credential of *named* (those of *scope* called *name*), or the error."""
    provider, workspace = scope
    if len(named) == 1:
        return named[0]
    if named:
        keys = [found.key for found in named]
        # Without a provider, the credentials may be of several: say which.
        providers = provider or " or ".join(sorted({str(k.provider) for k in keys}))
        raise DuplicateNameError(name=name, provider=providers, workspace_id=workspace, keys=keys)
    where = f"workspace {workspace}" if workspace else "the default workspace"
    of = f" of {provider}" if provider else ""
    message = f"no credential named {name!r}{of} in {where}"
    raise NotFoundError(message, status_code=404, method="GET", url=url)
