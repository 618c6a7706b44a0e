"""Property tests of the command against hostile input: random manifests (anchors, aliases,
merge keys, control characters, unicode, huge scalars, bombs), server-supplied names, and
command lines. Every run must:

- exit with 0, 1, 2 or 3 (never a traceback, never an "unexpected" error);
- never print a canary secret (a provider key with and without a known prefix, the
  management key), nor what reprlib would keep of one;
- never print a character a terminal acts on (everything but newlines is printable);
- stay within bounded memory: the hungry inputs run in a process under RLIMIT_AS.

Plain ``pytest`` tries a fixed, modest set of inputs (``derandomize``: the same ones each
run); ``pytest -m slow`` tries many more, also the same ones each run, so that CI cannot
flap on an input it happened to draw. ``ASYNCBYOK_EXPLORE=1 pytest -m slow`` draws new
ones at random each run, and prints how to reproduce a failure (``@reproduce_failure``).
:data:`EXAMPLES` says how many.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from asyncbyok import CreateBYOKKeyRequest
from asyncbyok.apply import load_manifest
from asyncbyok.emulator import Emulator

from ..apply.test_limits import laughs
from ._run import Result, asyncbyok, asyncbyok_limited

CANARY = "sk-proj-CANARY9canary9CANARY9canary9XyZw"
PLAIN = "f00dface4bee9c0ffee5a1b2c3d4e5f6"  # a key no pattern recognises
MGMT = "sk-or-v1-mgmt-CANARY0000canary1111CANARY2222canary3333"
SECRETS = (CANARY, PLAIN, MGMT)
# What must never show: each secret, and the ends reprlib keeps of a long string.
FRAGMENTS = tuple({f for s in SECRETS for f in (s, s[:12], s[-12:])} - {"sk-or-v1-mgm"})
ENV = {"K": CANARY, "K2": PLAIN}

# Inputs per run: (plain pytest, pytest -m slow).
EXAMPLES = {"manifests": (25, 300), "names": (8, 100), "arguments": (30, 400), "memory": (2, 30)}


def fast(kind: str) -> Any:
    return settings(
        max_examples=EXAMPLES[kind][0],
        derandomize=True,  # the same inputs every run: the fast suite cannot flap
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


EXPLORE = bool(os.environ.get("ASYNCBYOK_EXPLORE"))


def thorough(kind: str) -> Any:
    return settings(
        max_examples=EXAMPLES[kind][1],
        derandomize=not EXPLORE,
        print_blob=EXPLORE,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def assert_sane(
    result: Result, *, codes: frozenset[int] = frozenset({0, 1, 2, 3}), debug: bool = False
) -> None:
    """The promises every run keeps (*debug*: ``--debug`` asked for tracebacks)."""
    both = result.stdout + result.stderr
    assert result.code in codes, both[-2000:]
    assert debug or "Traceback" not in both, both[-4000:]
    assert "Error: unexpected" not in result.stderr, result.stderr[-2000:]
    assert [f for f in FRAGMENTS if f in both] == [], both[-2000:]
    assert [c for c in both if not (c.isprintable() or c == "\n")] == [], both[-2000:]


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    with Emulator(seed=11, management_keys=[MGMT]).run_in_thread() as emulator:
        yield emulator


def conn_of(emu: Emulator) -> list[str]:
    return ["--base-url", emu.base_url, "--api-key", MGMT]


@contextlib.contextmanager
def scratch_directory() -> Iterator[Path]:
    """A temporary working directory: a random `-o FILE` lands there, nowhere else."""
    before = Path.cwd()
    with tempfile.TemporaryDirectory() as directory:
        os.chdir(directory)
        try:
            yield Path(directory)
        finally:
            os.chdir(before)


# -- manifests ------------------------------------------------------------------------------

FIELDS = ["name", "provider", "workspace_id", "key_env", "key_file", "key", "allowed_models",
          "allowed_user_ids", "disabled", "declared_region", "is_fallback", "bogus"]  # fmt: skip
scalars = st.one_of(
    st.sampled_from(["openai", "anthropic", "groq", "prod", "K", "K2", "UNSET_VARIABLE"]),
    st.sampled_from(["europe", "Europe", "mars", "k.txt", "../k.txt", "/etc/hostname", ""]),
    st.sampled_from([CANARY, PLAIN, f"prod {CANARY}", f"x{PLAIN}", "key [/old]"]),
    st.uuids().map(str),
    st.text(max_size=30),  # any character: controls, surrogates, right-to-left marks
    st.integers(-(2**70), 2**70) | st.booleans() | st.none() | st.floats(),
    st.integers(1_000, 200_000).map(lambda n: "x" * n),  # huge scalars
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
valid_entries = st.fixed_dictionaries(
    {
        "name": st.text(min_size=1, max_size=30) | st.sampled_from(["prod", "key [/old]"]),
        "provider": st.sampled_from(["openai", "anthropic", "new-provider", "[b]x"]),
        "key_env": st.sampled_from(["K", "K2", "UNSET_VARIABLE"]),
    },
    optional={
        "allowed_models": st.none() | st.lists(st.text(max_size=12), max_size=3),
        "declared_region": st.sampled_from(["europe", "us", "mars", None]),
        "disabled": st.booleans(),
        "workspace_id": st.sampled_from(["0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"]),
    },
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["prod", "batch", "eu"]) | scalars,
        "provider": st.sampled_from(["openai", "anthropic"]) | scalars,
        "key_env": st.sampled_from(["K", "K2", "UNSET_VARIABLE"]) | scalars,
        **{field: values for field in FIELDS if field not in ("name", "provider", "key_env")},
    },
)


# How an entry is written: valid (so that plans and applies happen too), random, anchored,
# an alias or a merge of an earlier anchored one, an alias inside itself, raw YAML text.
FORMS = ["valid", "valid", "valid", "plain", "anchor", "alias", "merge", "self", "raw"]


@st.composite
def manifests(draw: st.DrawFn) -> bytes:
    """YAML text: entries as JSON (which YAML reads), with anchors, aliases, merge keys,
    self-references, bombs and raw lines between them."""
    lines = [f"version: {draw(st.sampled_from(['1', '1', '2', 'x', CANARY]))}"]
    if draw(st.booleans()):
        lines.append("missing_keys: keep")
    if draw(st.booleans()):
        defaults = draw(st.dictionaries(st.sampled_from(FIELDS), scalars, max_size=3))
        lines.append(f"defaults: {json.dumps(defaults)}")
    # The key in K2 has no prefix to know it by: it is a secret because an entry refers to
    # it (a string nothing refers to is just a string), so one always does.
    lines += ["keys:", "  - {name: k2, provider: openai, key_env: K2}"]
    anchored: list[int] = []
    for index in range(draw(st.integers(0, 6))):
        form = draw(st.sampled_from(FORMS))
        fields = draw(valid_entries if form == "valid" else entries)
        if form == "valid":  # one identity each, or most would be duplicates
            fields["name"] = f"{fields['name']}-{index}"
        entry = json.dumps(fields)
        if form == "anchor":
            anchored.append(index)
            lines.append(f"  - &e{index} {entry}")
        elif form == "alias" and anchored:
            lines.append(f"  - *e{draw(st.sampled_from(anchored))}")
        elif form == "merge" and anchored:
            lines.append(f"  - {{<<: *e{draw(st.sampled_from(anchored))}, name: m{index}}}")
        elif form == "self":
            lines.append(f"  - &s{index} [*s{index}]")
        elif form == "raw":
            lines.append(
                f"  - {{name: {draw(st.text(max_size=20))}, provider: openai, key_env: K}}"
            )
        else:  # valid, plain, or an alias or merge with nothing anchored before it
            lines.append(f"  - {entry}")
    text = "\n".join(lines) + "\n"
    if draw(st.sampled_from([False] * 9 + [True])):  # now and then, a bomb of some size
        text = laughs(draw(st.integers(2, 8)), draw(st.integers(2, 9)))
    return text.encode("utf-8", "surrogatepass")  # lone surrogates: not UTF-8 at all


commands = st.sampled_from([
    ["plan"], ["plan", "--json"], ["plan", "--exit-code"], ["apply", "--yes"],
    ["apply", "--yes", "--prune", "--json"], ["list", "--manifest"],
])  # fmt: skip


# Inputs that once failed, tried first on every run.
FOUND: list[tuple[bytes, list[str]]] = [
    # `list --manifest` read no key, so the K2 key pasted into a default was echoed back
    # by the error about the workspace id ("not 'f00dface...'").
    (
        f"version: 1\ndefaults: {json.dumps({'workspace_id': PLAIN})}\n"
        "keys:\n  - {name: k2, provider: openai, key_env: K2}\n".encode(),
        ["list", "--manifest"],
    ),
    # A key file no file can be named: an astral character as json.dumps escapes it, which
    # PyYAML reads as two lone surrogates ("unexpected UnicodeEncodeError"); a NUL byte.
    (
        b"version: 1\nmissing_keys: keep\ndefaults: {}\nkeys:\n"
        b"  - {name: k2, provider: openai, key_env: K2}\n"
        b'  - {"key_file": "HW\\u009c\\ud914\\udd6f*z.\\u00ffM\\u00f4<"}\n',
        ["plan"],
    ),
    (
        b"version: 1\nkeys:\n  - {name: k2, provider: openai, key_env: K2}\n"
        b'  - {"name": "a", "provider": "openai", "key_file": "x\\u0000y"}\n',
        ["apply", "--yes"],
    ),
    # A key the manifest does not refer to (nothing reads K), in an allowlist: the plan
    # showed it, and the server stored it for every later listing to show.
    (
        b"version: 1\nkeys:\n  - {name: k2, provider: openai, key_env: K2}\n"
        + f"  - {json.dumps({'name': 'eu', 'provider': 'openai', 'key_env': 'K2'})[:-1]}, "
        f'"allowed_models": ["prod {CANARY}"]}}\n'.encode(),
        ["apply", "--yes"],
    ),
]


def found(test: Any) -> Any:
    """*test* with each input of :data:`FOUND` as an explicit example."""
    for text, command in reversed(FOUND):
        test = example(text=text, command=command)(test)
    return test


def check_manifest(shared: Emulator, text: bytes, command: list[str]) -> None:
    with scratch_directory() as directory:
        path = directory / "fleet.yaml"
        path.write_bytes(text)
        (directory / "k.txt").write_text(CANARY + "\n")
        result = asyncbyok(*command, str(path), *conn_of(shared), env=ENV)
    assert_sane(result)


@fast("manifests")
@given(text=manifests(), command=commands)
@found
def test_random_manifests(shared: Emulator, text: bytes, command: list[str]) -> None:
    check_manifest(shared, text, command)


@pytest.mark.slow
@thorough("manifests")
@given(text=manifests(), command=commands)
@found
def test_random_manifests_thoroughly(shared: Emulator, text: bytes, command: list[str]) -> None:
    check_manifest(shared, text, command)


# -- names and other strings from the server ----------------------------------------------

hostile_text = st.one_of(
    st.text(min_size=1, max_size=255),
    st.lists(
        st.sampled_from(["[/old]", "[eu]", "[link=file:///etc/passwd]", "\x1b[2K", "\r", "\x1b[8m",
                         "\u202e", "\x9b", ":smile:", "\ud800", "\n- delete x", "prod", " "]),
        min_size=1, max_size=8,
    ).map("".join),
)  # fmt: skip


def check_names(shared: Emulator, names: list[str], providers: list[str]) -> None:
    shared.reset()
    for name, provider in zip(names, providers, strict=False):
        request = CreateBYOKKeyRequest(provider=provider, key="sk-proj-0000\x1b[8mAbCd", name="x")
        # Set in the store: a server may hold names the SDK refuses to send (lone surrogates).
        shared.store.create(request).settings["name"] = name
    ids = [r.id for r in shared.store.live()]
    conn = conn_of(shared)
    listed = asyncbyok("list", "--json", *conn)
    assert_sane(listed, codes=frozenset({0}))
    assert sorted(k["name"] for k in listed.json()) == sorted(names[: len(providers)])
    with scratch_directory() as directory:
        manifest = directory / "m.yaml"
        manifest.write_text("version: 1\nkeys: [{name: kept, provider: openai, key_env: K}]\n")
        for args in (["list"], ["get", ids[0]], ["export"], ["plan", str(manifest), "--prune"]):
            assert_sane(asyncbyok(*args, *conn, env=ENV), codes=frozenset({0}))
        exported = asyncbyok("export", "-o", "fleet.yaml", *conn)
        assert_sane(exported, codes=frozenset({0}))
        # Read back, the export names what the server holds, exactly (what it can name).
        kept = load_manifest(directory / "fleet.yaml", env={})
        stored = {(r.provider, r.name) for r in shared.store.live() if r.name.strip()}
        assert {(k.provider, k.name) for k in kept.keys} == stored


@fast("names")
@given(
    names=st.lists(hostile_text, min_size=1, max_size=3),
    providers=st.lists(st.sampled_from(["openai", "openai", "groq\x1b[8m", "[b]x"]), min_size=1),
)
def test_server_supplied_strings(shared: Emulator, names: list[str], providers: list[str]) -> None:
    check_names(shared, names, providers)


@pytest.mark.slow
@thorough("names")
@given(
    names=st.lists(hostile_text, min_size=1, max_size=3),
    providers=st.lists(st.sampled_from(["openai", "openai", "groq\x1b[8m", "[b]x"]), min_size=1),
)
def test_server_supplied_strings_thoroughly(
    shared: Emulator, names: list[str], providers: list[str]
) -> None:
    check_names(shared, names, providers)


# -- command lines --------------------------------------------------------------------------

words = st.one_of(
    st.sampled_from(["--json", "--debug", "--yes", "--unknown", "--", "-h", "--name"]),
    st.sampled_from([CANARY, PLAIN, MGMT, "openai", "K", "K2", "allowed-models", "m.yaml"]),
    st.sampled_from(["/dev/zero", "nope.yaml", "-", "0", "300", "europe", "US", "out.yaml"]),
    st.uuids().map(str),
    st.text(max_size=20),  # lone surrogates too: bytes that were not UTF-8
    st.integers(300, 5_000).map(lambda n: "y" * n),
)
# What each option usually takes; any word now and then.
LIKELY = {
    "--provider": ["openai", "anthropic", "groq", "[b]"],
    "--key-env": ["K", "K2", "UNSET_VARIABLE"],
    "--key-file": ["k.txt", "/dev/zero", "/proc/self/environ", "m.yaml"],
    "--name": ["prod", "key [/old]", "a\x1b[2Kb"],
    "--declared-region": ["europe", "Europe", "mars"],
    "--clear": ["allowed-models", "name", "declared-region"],
    "--manifest": ["m.yaml", "nope.yaml"],
    "-o": ["out.yaml", "nope/out.yaml", ".", "link.yaml"],
    "--concurrency": ["1", "0", "300"],
    "--from-key-env": ["K", "K2", "UNSET_VARIABLE"],
    "--to-key-env": ["K2", "K"],
    "--from-key-file": ["k.txt", "/dev/zero"],
    "--workspace-id": ["default", "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"],
    "--exclude": ["0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"],
}
FLAGS = ["--json", "--debug", "--yes", "--disabled", "--prune", "--exit-code", "--key-stdin",
         "--force-rotate", "--allow-inline-keys", "--allow-key-files-outside", "--disable",
         "--from-key-stdin", "--to-key-stdin"]  # fmt: skip
FIELD_OPTIONS = ["--name", "--key-env", "--key-file", "--key-stdin", "--allowed-model",
                 "--declared-region", "--disabled", "--clear", "--json"]  # fmt: skip
GRAMMAR: dict[str, tuple[int, list[str]]] = {  # positional arguments, options
    "list": (0, ["--provider", "--workspace-id", "--name", "--manifest", "--json"]),
    "get": (1, ["--json", "--debug", "--name", "--provider"]),
    "create": (0, ["--provider", "--provider", "--workspace-id", *FIELD_OPTIONS]),
    "update": (1, FIELD_OPTIONS),
    "delete": (2, ["--yes", "--yes", "--json", "--name"]),
    "plan": (1, ["--prune", "--exit-code", "--json", "--allow-inline-keys", "--force-rotate"]),
    "apply": (1, ["--yes", "--yes", "--prune", "--json", "--concurrency"]),
    "export": (0, ["--provider", "--workspace-id", "-o", "--json"]),
    "find-key": (0, ["--key-env", "--key-stdin", "--workspace-id", "--manifest", "--provider"]),
    "rotate": (
        0,
        [
            "--from-key-env",
            "--from-key-file",
            "--to-key-env",
            "--to-key-stdin",
            "--disable",
            "--workspace-id",
            "--exclude",
            "--yes",
            "--json",
        ],
    ),
}


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[str, list[str]]:
    """``asyncbyok COMMAND ...``: mostly options the command has, with likely values or
    any word; now and then words with no sense at all."""
    command = draw(st.sampled_from(sorted(GRAMMAR)))
    positional, options = GRAMMAR[command]
    likely_positional = ["m.yaml", "nope.yaml"] if command in ("plan", "apply") else ["0"]
    argv = [
        draw(st.sampled_from(likely_positional) | st.uuids().map(str) | words)
        for _ in range(draw(st.integers(0, positional)))
    ]
    for option in draw(st.lists(st.sampled_from(options), max_size=6)):
        argv.append(option)
        if option == "-o":  # a file it writes: only ever a relative name (see KNOWN)
            argv.append(draw(st.sampled_from(LIKELY["-o"])))
        elif option not in FLAGS:
            argv.append(draw(st.sampled_from(LIKELY.get(option, ["x"])) | words))
    if draw(st.integers(0, 4)) == 0:
        argv += draw(st.lists(words, max_size=4))
    return command, draw(st.permutations(argv)) if draw(st.booleans()) else argv


# Options the command lines may hold. Nothing else that starts with a dash is run: a random
# "--emulator-state=/x" or "-o/dev/zero" would write outside the scratch directory (an
# early version of these tests replaced /dev/zero with an export, as root).
KNOWN = {*FLAGS, *(o for _, options in GRAMMAR.values() for o in options), *LIKELY}
KNOWN |= {"--unknown", "--", "-h", "-"}


def writes_only_here(argv: list[str]) -> bool:
    """Whether *argv* can write nowhere but the scratch directory."""
    for index, word in enumerate(argv):
        if word.startswith("-") and word not in KNOWN:
            return False
        if word == "-o" and argv[index + 1 : index + 2] not in ([v] for v in LIKELY["-o"]):
            return False
    return True


def check_arguments(shared: Emulator, command: str, argv: list[str]) -> None:
    assume(writes_only_here(argv))
    with scratch_directory() as directory:
        manifest = "version: 1\nkeys: [{name: x, provider: openai, key_env: K}]\n"
        (directory / "m.yaml").write_text(manifest)
        (directory / "k.txt").write_text(PLAIN + "\n")
        (directory / "link.yaml").symlink_to(directory / "m.yaml")
        result = asyncbyok(command, *argv, *conn_of(shared), env=ENV, input=PLAIN)
    assert_sane(result, debug=debug_asked(command, argv))


def debug_asked(command: str, argv: list[str]) -> bool:
    """Whether click reads ``--debug`` in *argv*: before the first ``--`` that ends the
    options, which is not one given as an option's value (``get --name -- --debug`` asks
    for tracebacks, of the credential named ``--``)."""
    import click

    from asyncbyok.cli import cli

    params = cli.commands[command].params
    valued = {o for p in params if isinstance(p, click.Option) and not p.is_flag for o in p.opts}
    words = iter(argv)
    for word in words:
        if word == "--":
            return False
        if word == "--debug":
            return True
        if word in valued:
            next(words, None)
    return False


# `--` as an option's value does not end the options: --debug after it still counts.
DEBUG_AFTER_DASHES = ("get", ["--name", "--", "--debug"])


@fast("arguments")
@given(line=command_lines())
@example(line=DEBUG_AFTER_DASHES)
def test_random_command_lines(shared: Emulator, line: tuple[str, list[str]]) -> None:
    check_arguments(shared, *line)


@pytest.mark.slow
@thorough("arguments")
@given(line=command_lines())
@example(line=DEBUG_AFTER_DASHES)
def test_random_command_lines_thoroughly(shared: Emulator, line: tuple[str, list[str]]) -> None:
    check_arguments(shared, *line)


# -- memory: the hungry inputs, in a process under an address-space limit --------------------

hungry = st.one_of(
    st.builds(laughs, st.integers(5, 14), st.integers(5, 30)).map(str.encode),
    st.integers(1, 6).map(lambda mib: b"version: 1\nkeys: []\nx: " + b"y" * (mib << 20)),
    st.integers(1_000, 500_000).map(lambda n: b"version: 1\nkeys: " + b"[" * n + b"]" * n),
    st.integers(100_000, 400_000).map(lambda n: b"version: 1\nkeys: [" + b"{}," * n + b"]\n"),
)


def check_hungry(text: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "hungry.yaml"
        path.write_bytes(text)
        result = asyncbyok_limited("plan", str(path), "--emulator", "--emulator-latency", "0")
    assert_sane(result, codes=frozenset({0, 2}))


@fast("memory")
@given(text=hungry)
def test_hungry_manifests_in_bounded_memory(text: bytes) -> None:
    check_hungry(text)


@pytest.mark.slow
@thorough("memory")
@given(text=hungry)
def test_hungry_manifests_in_bounded_memory_thoroughly(text: bytes) -> None:
    check_hungry(text)
