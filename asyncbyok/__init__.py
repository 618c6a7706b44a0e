"""asyncbyok: an async SDK, CLI and local emulator for OpenRouter BYOK provider credentials."""

from ._sentinel import UNSET, Unset
from ._version import __version__
from .bulk import CreateResult
from .client import APIResponse, Client
from .config import Limits, Timeout
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
    UpdateBYOKKeyRequest,
)
from .pacing import AdaptiveRateLimiter, BackoffGate
from .pagination import AsyncKeyPager, Page
from .resources import BYOKResource, RawBYOKResource
from .retry import RetryBudget, RetryEvent, RetryPolicy

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
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "Timeout",
    "Unset",
    "UpdateBYOKKeyRequest",
    "ValidationError",
    "__version__",
]
