"""Plans and results as text (like ``terraform plan``) and as JSON-ready data.

Raw keys never appear: a create shows where its key comes from (``key: env OPENAI_KEY``),
a rotation the server's masked label.

Text symbols: ``+`` create, ``~`` update, ``↻`` rotate, ``-`` delete. A field change reads
``allowed_models: ["a"] -> null``; ``(not sent)`` marks a field the server did not return.
"""

from __future__ import annotations

import enum
import json
from typing import Any

from .._sentinel import UNSET
from ..errors import APIStatusError
from ..models import BYOKKey
from ._text import visible
from .execute import ApplyResult, Outcome
from .plan import Create, Delete, FieldChange, Plan, PlanItem, Rotate, Update

__all__ = [
    "SYMBOLS",
    "describe_item",
    "error_text",
    "item_to_json",
    "outcome_to_json",
    "plan_to_json",
    "render_plan",
    "result_to_json",
    "summary_line",
]

SYMBOLS = {"create": "+", "update": "~", "rotate": "↻", "delete": "-"}


def _value(value: Any) -> str:
    if value is UNSET:
        return "(not sent)"
    return json.dumps(_jsonable(value), ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _where(key: BYOKKey) -> str:
    name = key.name if isinstance(key.name, str) else "(no name)"
    return f"{key.provider}/{name} ({key.id})"


def describe_item(item: PlanItem) -> str:
    """One line naming the credential: ``openai/prod (1111-...)``; never a key."""
    if isinstance(item, Create):
        return item.desired.describe()
    return _where(item.current)


def _change_lines(changes: tuple[FieldChange, ...]) -> list[str]:
    return [f"    {c.field}: {_value(c.old)} -> {_value(c.new)}" for c in changes]


def _item_lines(item: PlanItem) -> list[str]:
    head = f"{SYMBOLS[item.action]} {item.action} {describe_item(item)}"
    if isinstance(item, Create):
        fields = item.desired.managed_fields()
        body = [f"    {f}: {_value(v)}" for f, v in fields.items()]
        return [head, f"    key: {item.desired.key_source}", *body]
    if isinstance(item, Update):
        return [head, *_change_lines(item.changes)]
    if isinstance(item, Rotate):
        return [f"{head}: {item.reason}", *_change_lines(item.changes)]
    return [f"{head}: {item.reason}"]


def summary_line(plan: Plan) -> str:
    """``Plan: 3 to create, 1 to update, 0 to rotate, 0 to delete; 295 unchanged.``"""
    c = plan.counts()
    return (
        f"Plan: {c['create']} to create, {c['update']} to update, {c['rotate']} to rotate, "
        f"{c['delete']} to delete; {c['unchanged']} unchanged."
    )


def render_plan(
    plan: Plan, *, limit: int | None = None, details: bool = True, more: str = ""
) -> str:
    """The plan as text, one block per item, then warnings and the summary line.

    *limit* shows at most that many items (the summary still counts them all), followed by
    ``... and N more`` and *more* (say, how to see them); ``details=False`` leaves out the
    field lines. Names, labels and every other value are shown as text: characters a
    terminal would act on are escaped (``\\x1b``, ``\\u202e``), so a
    name cannot rewrite or hide the lines around it.
    """
    if plan.is_empty:
        lines = ["No changes: the server matches the manifest."]
    else:
        lines = []
        shown = plan.items if limit is None else plan.items[:limit]
        for item in shown:
            block = _item_lines(item)
            lines.extend(block if details else block[:1])
        hidden = len(plan.items) - len(shown)
        if hidden:
            lines.append(f"... and {hidden} more{f' {more}' if more else ''}")
    lines.extend(f"Warning: {w}" for w in plan.warnings)
    lines.append(summary_line(plan))
    return "\n".join(visible(line) for line in lines)


def _key_json(key: BYOKKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "provider": str(key.provider),
        "name": key.name if key.name is not UNSET else None,
        "workspace_id": key.workspace_id if key.workspace_id is not UNSET else None,
        "label": key.label,
    }


def _changes_json(changes: tuple[FieldChange, ...]) -> list[dict[str, Any]]:
    out = []
    for change in changes:
        entry: dict[str, Any] = {"field": change.field, "new": _jsonable(change.new)}
        if change.old is not UNSET:  # absent "old": the server did not send the field
            entry["old"] = _jsonable(change.old)
        out.append(entry)
    return out


def item_to_json(item: PlanItem) -> dict[str, Any]:
    """One plan item as JSON-ready data (``action`` first)."""
    if isinstance(item, Create):
        d = item.desired
        return {
            "action": "create",
            "provider": d.provider,
            "name": d.name,
            "workspace_id": d.workspace_id,
            "key_source": d.key_source,
            "fields": {f: _jsonable(v) for f, v in d.managed_fields().items()},
        }
    out: dict[str, Any] = {"action": item.action, **_key_json(item.current)}
    if isinstance(item, (Update, Rotate)):
        out["changes"] = _changes_json(item.changes)
    if isinstance(item, (Rotate, Delete)):
        out["reason"] = item.reason
    return out


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """``{"changes": [...], "counts": {...}, "warnings": [...]}``."""
    return {
        "changes": [item_to_json(item) for item in plan.items],
        "counts": plan.counts(),
        "warnings": list(plan.warnings),
    }


def error_text(error: BaseException | None) -> str:
    """An exception as one line: its class, the status, the server's message."""
    if error is None:
        return ""
    if isinstance(error, APIStatusError):
        return f"{type(error).__name__}: {error.status_code} {error.message}".splitlines()[0]
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    """One item's outcome as JSON-ready data."""
    out = item_to_json(outcome.item)
    out["ok"] = outcome.ok
    if outcome.key is not None:
        out["id"] = outcome.key.id
        out["label"] = outcome.key.label
    if outcome.error is not None:
        out["error"] = error_text(outcome.error)
        status = getattr(outcome.error, "status_code", None)
        if isinstance(status, int):
            out["status"] = status
    return out


def result_to_json(result: ApplyResult) -> dict[str, Any]:
    """``{"ok": bool, "counts": {...}, "elapsed": s, "results": [...], "failures": [...]}``."""
    return {
        "ok": result.ok,
        "counts": result.counts(),
        "elapsed": round(result.elapsed, 3),
        "results": [outcome_to_json(o) for o in result.outcomes],
        "failures": [outcome_to_json(o) for o in result.failures],
    }
