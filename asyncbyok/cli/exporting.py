"""``asyncbyok export``: an account's credentials as a manifest, on standard output or
written atomically to ``-o FILE`` (a temporary file renamed into place once everything
was read, so a failure leaves an existing file as it was, and no partial one)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import click

from .inputs import PathType
from .session import EXIT_OK, BadInput, Settings, common_options, run

__all__ = ["export_command", "write_atomically"]


def write_atomically(path: Path, text: str) -> None:
    """Write *text* to *path* all at once: into a temporary file beside it, then renamed
    over it. An existing file keeps its permissions; a new one gets the usual ones.

    Only a regular file (or a new one) is replaced: a symbolic link keeps pointing where it
    did (the file it names is replaced), and a device or a pipe (``/dev/stdout``,
    ``/dev/null``) is written to as it is, never renamed over.
    """
    target = path.resolve() if path.is_symlink() else path
    try:
        mode: int | None = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise BadInput(f"cannot write {path}: it is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        _write_through(path, text)
        return
    _replace(path, target, text, None if mode is None else stat.S_IMODE(mode))


def _utf8(text: str) -> bool:
    """Whether *text* can be written as UTF-8 (no lone surrogate, which JSON allows)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _write_through(path: Path, text: str) -> None:
    try:
        with path.open("w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None


def _replace(path: Path, target: Path, text: str, mode: int | None) -> None:
    import tempfile

    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed or removed
            "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
        )
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, mode)
        os.replace(handle.name, target)
    except BaseException as exc:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


@click.command("export")
@click.option("--workspace-id", metavar="UUID", help="This workspace (default: the default one).")
@click.option("--provider", help="Only this provider (e.g. openai).")
@click.option(
    "-o",
    "--output",
    "output",
    metavar="FILE",
    type=PathType(dir_okay=False),
    help="Write the manifest to FILE (atomically: all or nothing) instead of stdout.",
)
@common_options
@click.pass_context
def export_command(
    ctx: click.Context, workspace_id: str | None, provider: str | None, output: Path | None
) -> None:
    """Write the account's credentials as a manifest (YAML; JSON with --json).

    Every managed field is written as the server has it. Raw keys cannot be read back:
    each entry gets a key_env placeholder named from its provider and name, with a BYOK_
    prefix so it never reuses a variable an SDK reads (BYOK_OPENAI_PROD_KEY, never
    OPENAI_API_KEY), and the manifest says `missing_keys: keep`, so until you set those
    variables plan and apply leave the existing keys alone (and refuse to create a
    credential whose key is not set). `asyncbyok plan` of the export shows no change.

        asyncbyok export --provider openai -o fleet.yaml
    """
    settings = ctx.ensure_object(Settings)

    async def main() -> int:
        import json

        from ..apply._keys import looks_like_key

        if output is not None and looks_like_key(output.name):  # a file named after a key
            raise BadInput("-o: the value looks like a raw key, not a file path (not shown)")

        from .._sentinel import UNSET
        from ..apply.export import export_manifest, manifest_yaml
        from .session import connect

        out = settings.output
        async with connect(settings) as conn:
            pager = conn.client.byok.list(
                provider=provider or UNSET, workspace_id=workspace_id or UNSET
            )
            keys = [k async for k in pager]
        exported = export_manifest(keys)
        for warning in exported.warnings:
            out.warning(warning)
        count = len(exported.data["keys"])
        if output is None:
            if out.json_mode:
                out.json(exported.data)
            else:
                out.text(manifest_yaml(exported.data).rstrip("\n"))
            out.note(f"Exported {count} credential(s)")
            return EXIT_OK
        if out.json_mode:
            text = json.dumps(exported.data, indent=2, ensure_ascii=False) + "\n"
            if not _utf8(text):  # a name with a lone surrogate: \u escapes keep it exact
                text = json.dumps(exported.data, indent=2) + "\n"
        else:
            text = manifest_yaml(exported.data)
        write_atomically(output, text)
        if out.json_mode:
            out.json({"written": str(output), "keys": count})
        out.note(f"Exported {count} credential(s) to {output}")
        return EXIT_OK

    run(settings, main)
