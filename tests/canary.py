"""Where a secret could show in an exception, and a check of every such place.

An error reporter (Sentry, a log handler with ``exc_info``, a ``multiprocessing`` pool
sending an exception back) records more than ``str(exc)``: the ``repr`` and attributes of
every exception along the ``__cause__``/``__context__`` chain, the formatted traceback,
and the local variables of each frame. :func:`exception_leaks` looks at all of them.
"""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Iterable, Iterator

__all__ = ["chain_of", "exception_leaks", "texts_of"]


def chain_of(exc: BaseException) -> list[BaseException]:
    """*exc* and every exception behind it (causes and contexts), each once."""
    seen: dict[int, BaseException] = {}
    todo = [exc]
    while todo:
        link = todo.pop()
        if id(link) not in seen:
            seen[id(link)] = link
            todo.extend(e for e in (link.__cause__, link.__context__) if e is not None)
    return list(seen.values())


def _frame_locals(exc: BaseException) -> Iterator[tuple[str, str]]:
    """``(where, repr)`` of each local variable in *exc*'s traceback, test frames aside
    (a test's own variables hold the canary on purpose)."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        module = str(frame.f_globals.get("__name__", ""))
        if not module.startswith("tests."):
            for name, value in frame.f_locals.items():
                try:
                    text = repr(value)
                except Exception as err:  # a failing repr is still a finding
                    text = f"<repr failed: {err!r}>"
                yield f"{module}:{frame.f_code.co_name}:{name}", text
        tb = tb.tb_next


def texts_of(exc: BaseException, *, frame_locals: bool = True) -> Iterator[tuple[str, str]]:
    """``(where, text)`` for every text a reporter could record from *exc*'s chain.

    ``frame_locals=False`` leaves out the frames' local variables: a raw provider key
    passed as an argument is, like any argument, a local of each call it goes through.
    The management key is not: the client holds it, and no frame of ours does.
    """
    for link in chain_of(exc):
        kind = type(link).__name__
        yield f"repr({kind})", repr(link)
        yield f"str({kind})", str(link)
        for name, value in vars(link).items():
            yield f"vars({kind}).{name}", repr(value)
        yield f"{kind}.args", repr(link.args)
        formatted = traceback.format_exception(type(link), link, link.__traceback__)
        yield f"traceback({kind})", "".join(formatted)
        if frame_locals:
            for where, text in _frame_locals(link):
                yield f"locals {where}", text
        try:
            yield f"pickle({kind})", repr(pickle.dumps(link))
        except Exception as err:  # not picklable: nothing leaks that way
            yield f"pickle({kind})", f"<not picklable: {type(err).__name__}>"


def exception_leaks(
    exc: BaseException, secrets: Iterable[str], *, frame_locals: bool = True
) -> list[str]:
    """Where in *exc*'s chain each of *secrets* shows (empty: nowhere)."""
    wanted = [s for s in secrets if s]
    return [
        f"{secret[:12]}... in {where}: {text[:200]!r}"
        for where, text in texts_of(exc, frame_locals=frame_locals)
        for secret in wanted
        if secret in text
    ]
