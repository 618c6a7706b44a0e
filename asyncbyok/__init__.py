"""asyncbyok: an async SDK, CLI and local emulator for OpenRouter BYOK provider credentials.

The names below are imported when first used (PEP 562), so ``import asyncbyok`` and the
``asyncbyok`` command's ``--help`` stay fast: the HTTP stack (aiohttp) and the models load
with the first name that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._sentinel import UNSET, Unset
from ._version import __version__

if TYPE_CHECKING:
    from .bulk import CreateResult
    from .client import Client
    from .config import Limits, Timeout
    from .ensure import EnsureOutcome, EnsureResult, EnsureSpec
    from .errors import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AsyncBYOKError,
        AuthenticationError,
        BadRequestError,
        ClientClosedError,
        ConflictError,
        DuplicateNameError,
        EventLoopError,
        FieldError,
        InsecureURLError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ResponseTooLargeError,
        UnreadableStateError,
        ValidationError,
    )
    from .hooks import ErrorEvent, EventHooks, RequestEvent, ResponseEvent
    from .leaks import KeyMatches
    from .models import (
        BYOKKey,
        BYOKKeyList,
        CreateBYOKKeyRequest,
        DeclaredRegion,
        DeleteResult,
        ProviderSlug,
        RequestField,
        UndecodableItem,
        UpdateBYOKKeyRequest,
        request_fields,
    )
    from .pacing import AdaptiveRateLimiter, BackoffGate
    from .pagination import AsyncKeyPager, Page
    from .resources import BYOKResource, RawBYOKResource
    from .response import APIResponse
    from .retry import Reconciliation, RetryBudget, RetryEvent, RetryPolicy
    from .sync import SyncClient

# Where each lazily imported name lives.
_HOMES: dict[str, str] = {
    "APIConnectionError": "errors",
    "APIError": "errors",
    "APIResponse": "response",
    "APIResponseValidationError": "errors",
    "APIStatusError": "errors",
    "APITimeoutError": "errors",
    "AdaptiveRateLimiter": "pacing",
    "AsyncBYOKError": "errors",
    "AsyncKeyPager": "pagination",
    "AuthenticationError": "errors",
    "BYOKKey": "models",
    "BYOKKeyList": "models",
    "BYOKResource": "resources",
    "BackoffGate": "pacing",
    "BadRequestError": "errors",
    "Client": "client",
    "ClientClosedError": "errors",
    "ConflictError": "errors",
    "CreateBYOKKeyRequest": "models",
    "CreateResult": "bulk",
    "DeclaredRegion": "models",
    "DeleteResult": "models",
    "DuplicateNameError": "errors",
    "EnsureOutcome": "ensure",
    "EnsureResult": "ensure",
    "EnsureSpec": "ensure",
    "ErrorEvent": "hooks",
    "EventHooks": "hooks",
    "KeyMatches": "leaks",
    "EventLoopError": "errors",
    "FieldError": "errors",
    "InsecureURLError": "errors",
    "InternalServerError": "errors",
    "Limits": "config",
    "NotFoundError": "errors",
    "Page": "pagination",
    "PermissionDeniedError": "errors",
    "ProviderSlug": "models",
    "RateLimitError": "errors",
    "ResponseTooLargeError": "errors",
    "UnreadableStateError": "errors",
    "RawBYOKResource": "resources",
    "Reconciliation": "retry",
    "RequestEvent": "hooks",
    "RequestField": "models",
    "ResponseEvent": "hooks",
    "RetryBudget": "retry",
    "RetryEvent": "retry",
    "RetryPolicy": "retry",
    "SyncClient": "sync",
    "Timeout": "config",
    "UndecodableItem": "models",
    "UpdateBYOKKeyRequest": "models",
    "ValidationError": "errors",
    "request_fields": "models",
}

__all__ = [
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AdaptiveRateLimiter",
    "AsyncBYOKError",
    "AsyncKeyPager",
    "AuthenticationError",
    "BYOKKey",
    "BYOKKeyList",
    "BYOKResource",
    "BackoffGate",
    "BadRequestError",
    "Client",
    "ClientClosedError",
    "ConflictError",
    "CreateBYOKKeyRequest",
    "CreateResult",
    "DeclaredRegion",
    "DeleteResult",
    "DuplicateNameError",
    "EnsureOutcome",
    "EnsureResult",
    "EnsureSpec",
    "ErrorEvent",
    "EventHooks",
    "EventLoopError",
    "FieldError",
    "InsecureURLError",
    "InternalServerError",
    "KeyMatches",
    "Limits",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "ProviderSlug",
    "RateLimitError",
    "RawBYOKResource",
    "Reconciliation",
    "RequestEvent",
    "RequestField",
    "ResponseEvent",
    "ResponseTooLargeError",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "SyncClient",
    "Timeout",
    "UndecodableItem",
    "UnreadableStateError",
    "Unset",
    "UpdateBYOKKeyRequest",
    "ValidationError",
    "__version__",
    "request_fields",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'asyncbyok' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # once is enough
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
