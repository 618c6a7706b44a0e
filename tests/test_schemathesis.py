"""Schemathesis against the emulator: every check, stateful links, from the vendored spec.

``schemathesis run`` (in this process, through click's ``CliRunner``) generates requests
from ``tests/spec/byok.openapi.yaml`` against an emulator served on loopback by the test:
the examples, coverage, fuzzing and stateful phases, the last with the links Schemathesis
infers between the operations (create -> get, update, delete), and ``--checks all``.

One failure is deliberate, and it is the only one allowed: the spec leaves the request
bodies open (no ``additionalProperties: false``), so Schemathesis sends made-up fields,
and the emulator answers ``400 <name>: unknown field`` as the real service does. The
built-in ``positive_data_acceptance`` check is therefore replaced by
``positive_data_acceptance_but_unknown_fields``: the same check, with exactly that case
let through (:func:`is_the_deliberate_rejection`). Every other schema-valid request must
still be accepted, and every other check passes as it is.

Bounded: a fixed number of examples per operation and a fixed seed, so CI is repeatable
(``SCHEMATHESIS_SEED=n`` explores another). About 10 s, so the run is marked ``slow``.
Schemathesis 4 needs Python 3.11; the fast tests here do not import it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from asyncbyok.emulator import Emulator

SPEC = Path(__file__).resolve().parent / "spec" / "byok.openapi.yaml"
MAX_EXAMPLES = 25
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "1"))


@functools.cache
def _spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return loaded


def body_fields(method: str, path: str) -> set[str] | None:
    """The properties the spec declares for the JSON body of *method* *path*, if it has one."""
    operation = _spec()["paths"].get(path, {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = _spec()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return set(schema.get("properties", {}))


def is_the_deliberate_rejection(case: Any, status: int, message: str) -> bool:
    """A ``400`` naming exactly the body's fields that the spec does not declare, nothing else.

    The emulator, like the service, refuses a body with a field it does not know, and names
    each one ``<name>: unknown field``, joined by ``; ``. *case* has ``method``, ``path``
    and ``body`` (a Schemathesis ``Case``); *message* is the error body's ``message``.
    """
    known = body_fields(case.method, case.path)
    if status != 400 or known is None or not isinstance(case.body, dict):
        return False
    unknown = [name for name in case.body if name not in known]
    if not unknown:
        return False
    rest = message
    for name in unknown:
        part = f"{name}: unknown field"
        if part not in rest:
            return False
        rest = rest.replace(part, "", 1)
    return rest.replace(";", "").strip() == ""


def _error_message(response: Any) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return ""


@functools.cache
def _register_check() -> None:
    """Register ``positive_data_acceptance_but_unknown_fields`` with Schemathesis, once."""
    import schemathesis
    from schemathesis.openapi.checks import RejectedPositiveData
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    @schemathesis.check
    def positive_data_acceptance_but_unknown_fields(
        ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
    ) -> bool | None:
        """``positive_data_acceptance``, but for the deliberate 400 on unknown body fields."""
        try:
            return positive_data_acceptance(ctx, response, case)
        except RejectedPositiveData:
            message = _error_message(response)
            if is_the_deliberate_rejection(case, response.status_code, message):
                return None
            raise


@pytest.mark.slow
def test_schemathesis_finds_only_the_deliberate_rejection(tmp_path: Path) -> None:
    from schemathesis.cli import schemathesis as schemathesis_cli

    _register_check()
    with Emulator(seed=1).run_in_thread() as emulator:
        args = [
            "run",
            str(SPEC),
            f"--url={emulator.base_url}",
            f"--header=Authorization: Bearer {emulator.management_key}",
            "--checks=all",
            # Replaced by positive_data_acceptance_but_unknown_fields: see the docstring.
            "--exclude-checks=positive_data_acceptance",
            "--phases=examples,coverage,fuzzing,stateful",
            f"--max-examples={MAX_EXAMPLES}",
            f"--seed={SEED}",
            "--workers=1",
            f"--report-dir={tmp_path}",
        ]
        result = CliRunner().invoke(schemathesis_cli, args, env={"NO_COLOR": "1"})
        unexpected_errors = emulator.stats.unexpected_errors
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    assert "API Links:" in result.output  # the stateful phase ran, following links
    assert unexpected_errors == 0  # no request made the emulator itself fail


# -- the one exemption, exactly -----------------------------------------------------------


def _case(method: str, path: str, body: object) -> SimpleNamespace:
    return SimpleNamespace(method=method, path=path, body=body)


def test_the_exemption_is_a_400_naming_exactly_the_unknown_fields() -> None:
    case = _case("POST", "/byok", {"provider": "openai", "x;y": 1, "z": []})
    message = "z: unknown field; x;y: unknown field"
    assert is_the_deliberate_rejection(case, 400, message)
    assert is_the_deliberate_rejection(
        _case("PATCH", "/byok/{id}", {"q": 1}), 400, "q: unknown field"
    )


def test_nothing_else_is_exempt() -> None:
    case = _case("POST", "/byok", {"provider": "openai", "z": 1})
    assert not is_the_deliberate_rejection(case, 422, "z: unknown field")  # another status
    assert not is_the_deliberate_rejection(case, 400, "z: unknown field; name: too long")
    assert not is_the_deliberate_rejection(case, 400, "provider: unknown provider")
    known_only = _case("POST", "/byok", {"provider": "openai", "name": "n"})
    assert not is_the_deliberate_rejection(known_only, 400, "")  # no unknown field sent
    assert not is_the_deliberate_rejection(_case("GET", "/byok", None), 400, "")  # no body
    assert body_fields("POST", "/byok") >= {"provider", "key", "name"}  # type: ignore[operator]
