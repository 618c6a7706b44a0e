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
    FieldError,
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
from .pagination import AsyncKeyPager, Page
from .retry import RetryBudget, RetryEvent, RetryPolicy

__all__ = [
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBYOKError",
    "AsyncKeyPager",
    "AuthenticationError",
    "BYOKKey",
    "BYOKKeyList",
    "BadRequestError",
    "Client",
    "ClientClosedError",
    "ConflictError",
    "CreateBYOKKeyRequest",
    "CreateResult",
    "DeclaredRegion",
    "DeleteResult",
    "FieldError",
    "InternalServerError",
    "Limits",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "ProviderSlug",
    "RateLimitError",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "Timeout",
    "Unset",
    "UpdateBYOKKeyRequest",
    "ValidationError",
    "__version__",
]
