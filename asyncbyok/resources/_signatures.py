"""How ``client.byok``'s methods take their arguments, and how the plain ones are made.

- :func:`takes_fields`: ``create`` and ``update`` take their model's fields as keywords
  (checked against :func:`~asyncbyok.models.request_fields` when the module is imported),
  or one ready model, not both.
- :func:`parsed`: a plain method from its raw twin, the same arguments, the parsed result.
- The call options every method takes (:data:`CALL_OPTIONS`): ``timeout=``,
  ``max_retries=`` and ``extra_headers=``, for that call only.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from .._sentinel import UNSET
from ..errors import FieldError, ValidationError
from ..models import request_fields
from ..response import APIResponse

if TYPE_CHECKING:
    from .byok import BYOKResource, RawBYOKResource

__all__ = ["CALL_OPTIONS", "parsed", "takes_fields"]

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])

CALL_OPTIONS = frozenset({"timeout", "max_retries", "extra_headers"})
"""The keywords of every method that set one call's options, not the request's fields."""


def takes_fields(model: type[Any], *, skip: int) -> Callable[[F], F]:
    """Let a method take *model*'s fields as keywords, or one ready *model*, not both.

    The method's keyword-only parameters must be exactly the model's fields and the call
    options (checked at import); the method receives the built request as its positional
    ``request``, and the call options as keywords.
    *skip* is how many positional parameters precede ``request`` (``self``, ``key_id``).
    """
    names = frozenset(f.name for f in request_fields(model))
    wanted = names | CALL_OPTIONS

    def decorate(method: F) -> F:
        signature = inspect.signature(method)
        keywords = {p.name for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY}
        if keywords != wanted:
            raise TypeError(
                f"{method.__qualname__} must take {model.__name__}'s fields and the call "
                f"options as keywords: missing {sorted(wanted - keywords)}, "
                f"extra {sorted(keywords - wanted)}"
            )

        @functools.wraps(method)
        def wrapper(*args: Any, **fields: Any) -> Any:
            head, rest = args[:skip], args[skip:]
            request = rest[0] if rest else None
            options = {k: fields.pop(k) for k in CALL_OPTIONS & fields.keys()}
            return method(*head, _build(model, request, fields), **options)

        return wrapper  # type: ignore[return-value]

    return decorate


_BLANKS: dict[type[Any], dict[str, Any]] = {}


def _blank(cls: type[Any]) -> dict[str, Any]:
    """Every field of a request model, UNSET."""
    blank = _BLANKS.get(cls)
    if blank is None:
        blank = _BLANKS[cls] = dict.fromkeys((f.name for f in request_fields(cls)), UNSET)
    return blank


def _build(cls: type[R], request: Any, fields: dict[str, Any]) -> R:
    """A request object from either a ready one or keyword arguments, not both."""
    if request is None:
        # A field left out is UNSET, required ones too: the model then names each missing one.
        blank = _blank(cls)
        if not fields.keys() <= blank.keys():
            unknown = sorted(fields.keys() - blank.keys())
            raise TypeError(f"unexpected keyword arguments: {', '.join(unknown)}")
        return cls(**{**blank, **fields})
    if not isinstance(request, cls):
        raise TypeError(f"expected a {cls.__name__}, not {type(request).__name__}")
    given = [k for k, v in fields.items() if v is not UNSET]
    if given:
        raise ValidationError(
            [FieldError(k, f"given twice: as a keyword and in the {cls.__name__}") for k in given],
            subject=cls.__name__,
        )
    return request


def parsed(
    raw_method: Callable[Concatenate[RawBYOKResource, P], Awaitable[APIResponse[R]]],
) -> Callable[Concatenate[BYOKResource, P], Awaitable[R]]:
    """The plain method of a raw one: the same arguments, the parsed result.

    What it returns is the raw method's ``APIResponse[X]`` unwrapped, and it says so at run
    time too: its ``__signature__`` (``help()``, ``inspect.signature``, the reference) and
    docstring show ``X``. Type checkers read ``R`` from this function's own annotations.
    """

    @functools.wraps(raw_method)
    async def method(self: BYOKResource, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return (await raw_method(self.with_raw_response, *args, **kwargs)).parsed

    name = raw_method.__name__
    raw_signature = inspect.signature(raw_method)
    returns = _unwrapped_annotation(raw_signature.return_annotation, name)
    method.__qualname__ = f"BYOKResource.{name}"
    method.__signature__ = raw_signature.replace(  # type: ignore[attr-defined]
        return_annotation=returns
    )
    method.__doc__ = (
        f"{inspect.getdoc(raw_method) or ''}\n\nReturns ``{returns}``"
        f" (``client.byok.with_raw_response.{name}(...)``:\nthe "
        ":class:`~asyncbyok.response.APIResponse` around it)."
    )
    return method


def _unwrapped_annotation(annotation: object, name: str) -> str:
    """``"X"`` of a raw method's ``"APIResponse[X]"`` (annotations are strings here)."""
    inner = re.fullmatch(r"APIResponse\[(.+)\]", str(annotation))
    if inner is None:  # pragma: no cover - a raw method must return an APIResponse
        raise TypeError(f"RawBYOKResource.{name} must be annotated -> APIResponse[...]")
    return inner.group(1)
