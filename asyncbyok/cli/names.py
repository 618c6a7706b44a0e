"""Finding one credential by name for ``get --name`` and ``delete --name``: the options,
the check that an ID or a name is given (not both), and the lookup
(``client.byok.get_by_name``), where several credentials of one name are bad input: the
user must choose one by its id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .exits import BadInput

if TYPE_CHECKING:
    from ..client import Client
    from ..models import BYOKKey

__all__ = ["by_name", "by_name_options", "id_or_name"]


def by_name_options(func: Any) -> Any:
    """``--name``, and the ``--provider`` and ``--workspace-id`` that narrow it."""
    for option in reversed(
        (
            click.option("--name", help="The credential named exactly NAME, instead of an ID."),
            click.option("--provider", help="With --name: only this provider (e.g. openai)."),
            click.option(
                "--workspace-id",
                metavar="UUID",
                help="With --name: this workspace (default: the default one).",
            ),
        )
    ):
        func = option(func)
    return func


def id_or_name(
    ids: tuple[str, ...], name: str | None, provider: str | None, ws: str | None
) -> None:
    """Exactly one of ID(s) or --name; --provider and --workspace-id only with --name."""
    if bool(ids) == (name is not None):
        raise click.UsageError("give an ID or --name NAME (one of them)")
    if name is None and (provider is not None or ws is not None):
        raise click.UsageError("--provider and --workspace-id go with --name")


async def by_name(client: Client, name: str, provider: str | None, ws: str | None) -> BYOKKey:
    """The one credential named *name*: several are bad input (the user must choose)."""
    from ..errors import DuplicateNameError

    try:
        return await client.byok.get_by_name(name, provider=provider, workspace_id=ws)
    except DuplicateNameError as exc:
        ids = ", ".join(k.id for k in exc.keys)
        narrow = "" if provider else ", or narrow it with --provider"
        raise BadInput(
            f"{len(exc.keys)} credentials are named {name!r}: {ids}; give one by its ID{narrow}"
        ) from None
