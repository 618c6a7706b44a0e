"""asyncbyok: an async SDK, CLI and local emulator for OpenRouter BYOK provider credentials."""

from ._sentinel import UNSET, Unset
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncBYOKError,
    AuthenticationError,
    BadRequestError,
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

__all__ = [
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBYOKError",
    "AuthenticationError",
    "BYOKKey",
    "BYOKKeyList",
    "BadRequestError",
    "ConflictError",
    "CreateBYOKKeyRequest",
    "DeclaredRegion",
    "DeleteResult",
    "FieldError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProviderSlug",
    "RateLimitError",
    "Unset",
    "UpdateBYOKKeyRequest",
    "ValidationError",
    "__version__",
]
