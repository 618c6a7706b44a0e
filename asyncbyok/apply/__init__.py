"""Declarative apply: make the server's credentials match a manifest.

::

    import asyncbyok
    from asyncbyok.apply import apply_plan, fetch_state, load_manifest, make_plan, render_plan

    manifest = load_manifest("fleet.yaml")           # checked before any request
    async with asyncbyok.Client() as client:
        state = await fetch_state(client, manifest)   # lists the managed scopes
        plan = make_plan(manifest, state.keys, default_workspace_id=state.default_workspace_id)
        print(render_plan(plan))
        result = await apply_plan(client, plan)      # creates, PATCHes, deletes

Running the same manifest again plans nothing; a run killed half-way converges when run
again (identity is ``(workspace, provider, name)``). See :mod:`asyncbyok.apply.manifest`
for the file format, :mod:`asyncbyok.apply.plan` for the comparison rules and
:mod:`asyncbyok.apply.export` for writing a manifest from what an account holds.
"""

from ._keys import fake_key
from .execute import ApplyResult, Outcome, ServerState, apply_manifest, apply_plan, fetch_state
from .manifest import DesiredKey, Identity, Manifest, load_manifest, parse_manifest
from .plan import Create, Delete, FieldChange, Plan, PlanItem, Rotate, Update, make_plan
from .render import plan_to_json, render_plan, result_to_json

__all__ = [
    "ApplyResult",
    "Create",
    "Delete",
    "DesiredKey",
    "FieldChange",
    "Identity",
    "Manifest",
    "Outcome",
    "Plan",
    "PlanItem",
    "Rotate",
    "ServerState",
    "Update",
    "apply_manifest",
    "apply_plan",
    "fake_key",
    "fetch_state",
    "load_manifest",
    "make_plan",
    "parse_manifest",
    "plan_to_json",
    "render_plan",
    "result_to_json",
]
