"""`asyncbyok list` on terminals of every width: ids whole, PROVIDER and NAME always there,
the less important columns dropped first, no line wider than the terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Sequence

import pytest
from rich.console import Console

import asyncbyok
from asyncbyok.cli.output import keys_table
from asyncbyok.emulator import Emulator

from ._run import clean_env, command

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ALL = ["ID", "PROVIDER", "NAME", "STATUS", "LABEL", "WORKSPACE", "MODELS", "CREATED"]
# What each width shows: at 80 the essentials and the status (it kept LABEL and dropped
# STATUS, so a disabled credential looked enabled); everything from about 200.
EXPECTED = {
    80: ["ID", "PROVIDER", "NAME", "STATUS"],
    120: ["ID", "PROVIDER", "NAME", "STATUS", "LABEL"],
    200: ALL,
}


async def make_keys(emu: Emulator) -> list[asyncbyok.BYOKKey]:
    async with asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as client:
        await client.byok.create(
            provider="openai",
            key="sk-proj-0000000000AbCd",
            name="prod-openai-team01",
            allowed_models=["openai/gpt-4o", "openai/gpt-4o-mini"],
        )
        await client.byok.create(
            provider="anthropic",
            key="sk-ant-api03-000000WxYz",
            name="research",
            is_fallback=True,
        )
        return [k async for k in client.byok.list()]


def render(keys: Sequence[asyncbyok.BYOKKey], width: int) -> list[str]:
    console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(keys_table(keys, width))
    console.file.close()
    return console.export_text().splitlines()


def check_table(lines: list[str], width: int, ids: set[str]) -> list[str]:
    """The headers of a rendered table, after checking what every width must give."""
    assert all(len(line.rstrip()) <= width for line in lines), lines
    headers = lines[0].split()
    assert headers[:3] == ["ID", "PROVIDER", "NAME"]
    assert {m for line in lines for m in UUID.findall(line)} >= ids  # every id whole
    names = "".join(lines)
    assert "prod-openai" in names
    assert "research" in names
    return headers


@pytest.mark.parametrize("width", [80, 100, 120, 160, 200])
async def test_the_table_fits_each_width(width: int) -> None:
    async with Emulator(seed=1) as emu:
        keys = await make_keys(emu)
    headers = check_table(render(keys, width), width, {k.id for k in keys})
    assert headers == [h for h in ALL if h in headers]  # order kept, columns dropped
    if width in EXPECTED:
        assert headers == EXPECTED[width]


async def test_a_long_name_wraps_before_an_essential_column_goes() -> None:
    async with (
        Emulator(seed=1) as emu,
        asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as c,
    ):
        await c.byok.create(provider="openai", key="sk-proj-000000AbCd", name="n" * 120)
        keys = [k async for k in c.byok.list()]
    lines = render(keys, 80)
    assert lines[0].split() == ["ID", "PROVIDER", "NAME", "STATUS"]
    assert all(len(line) <= 80 for line in lines)
    assert len(lines) > 3  # NAME wrapped over several lines, and nothing was cut:
    fragments = [word for line in lines[1:] for word in line.split() if set(word) == {"n"}]
    assert "".join(fragments) == "n" * 120
    assert keys[0].id in lines[1]


def run_in_pty(args: Sequence[str], columns: int) -> str:
    """Run the real command with a pseudo-terminal *columns* wide as its stdout."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = clean_env()
    env.pop("COLUMNS")  # the terminal's own size, as in a shell
    env.pop("LINES", None)
    process = subprocess.Popen(
        [*command(), *args],
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=30) == 0
    text = b"".join(chunks).decode()
    return re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_in_a_real_terminal_of_80_120_and_200_columns(emu: Emulator, conn: list[str]) -> None:
    import asyncio

    keys = asyncio.run(make_keys(emu))
    for columns, headers in EXPECTED.items():
        lines = run_in_pty(["list", *conn], columns).splitlines()
        assert check_table(lines, columns, {k.id for k in keys}) == headers, columns
