"""asyncbyok: an async SDK, CLI and local emulator for OpenRouter BYOK provider credentials."""

from ._sentinel import UNSET, Unset
from ._version import __version__
from .bulk import CreateResult
from .client import Client
from .config import Limits, Timeout
from .ensure import EnsureResult
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
    ValidationError,
)
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
    "EnsureResult",
    "EventLoopError",
    "FieldError",
    "InsecureURLError",
    "InternalServerError",
    "Limits",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "ProviderSlug",
    "RateLimitError",
    "RawBYOKResource",
    "Reconciliation",
    "RequestField",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "Timeout",
    "UndecodableItem",
    "Unset",
    "UpdateBYOKKeyRequest",
    "ValidationError",
    "__version__",
    "request_fields",
]
