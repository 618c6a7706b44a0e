"""Writing a manifest from what an account holds (``asyncbyok export``), the way
``terraform import`` adopts existing resources.

Every credential becomes an entry with its identity (``name``, ``provider``,
``workspace_id``) and every field a create can set, as the server has it, so planning the
exported manifest against the same account finds nothing to change. The API never returns
raw keys, so each entry names a ``key_env`` variable made from its provider and name
(``openai`` / ``prod-eu`` -> ``BYOK_OPENAI_PROD_EU_KEY``; the prefix keeps clear of the
variables SDKs read, such as ``OPENAI_API_KEY``), and the manifest says
``missing_keys: keep``: until those variables are set, existing credentials keep their
keys and only their fields are managed (see :mod:`asyncbyok.apply.manifest`).

Credentials a manifest cannot name are left out, with a warning: those without a name,
those whose name looks like a raw key (a manifest refuses such names), and all but the
oldest of several sharing one identity.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any

import attrs

from .._sentinel import UNSET
from ..models import BYOKKey, CreateBYOKKeyRequest
from ._keys import KEY_TOKEN
from ._text import visible_lines
from .desired import MANIFEST_VERSION
from .plan import age

__all__ = ["ENV_PREFIX", "Exported", "env_name", "export_manifest", "manifest_yaml"]

_IDENTITY = ("name", "provider", "workspace_id")
# Every field a create can set, besides the identity and the key: what an entry manages.
_MANAGED = tuple(
    a.name for a in attrs.fields(CreateBYOKKeyRequest) if a.name not in (*_IDENTITY, "key")
)

_HEADER = """\
# Written by `asyncbyok export`: the credentials as the server had them.
#
# Raw keys cannot be read back from the API. Each entry names the variable its key would
# come from (key_env). With `missing_keys: keep`, an entry whose variable is not set keeps
# its credential's key as it is and manages only its fields; set the variable to manage
# (and rotate) the key too. `asyncbyok plan` of this file shows no change.
"""


@attrs.frozen
class Exported:
    """The manifest as plain data (``version``, ``missing_keys``, ``keys``), and what
    was left out of it."""

    data: dict[str, Any]
    warnings: tuple[str, ...] = ()


ENV_PREFIX = "BYOK_"
"""Every ``key_env`` an export names starts with this: no variable an SDK or a tool reads
(``OPENAI_API_KEY`` for ``openai``/``api``) is ever taken for a credential's key."""


def env_name(provider: str, name: str) -> str:
    """The ``key_env`` placeholder of a credential.

    >>> env_name("openai", "prod-eu.2"), env_name("openai", "api")
    ('BYOK_OPENAI_PROD_EU_2_KEY', 'BYOK_OPENAI_API_KEY')
    """
    words = re.sub(r"[^A-Za-z0-9]+", "_", f"{provider}_{name}").strip("_").upper()
    return f"{ENV_PREFIX}{words}_KEY" if words else f"{ENV_PREFIX}KEY"


def _value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    return value


def export_manifest(keys: Iterable[BYOKKey]) -> Exported:
    """A manifest holding *keys*, in the order of workspace, provider and name."""
    warnings: list[str] = []
    chosen: dict[tuple[str, str, str], BYOKKey] = {}
    for key in sorted(keys, key=age):
        if not isinstance(key.name, str) or not key.name.strip():
            warnings.append(
                f"{key.id} ({_value(key.provider)}) has no name: not exported "
                "(a manifest identifies credentials by name)"
            )
            continue
        if KEY_TOKEN.search(key.name):  # a manifest refuses it: rename it first
            warnings.append(
                f"{key.id} ({_value(key.provider)}) has a name that looks like a raw key (not "
                "shown): not exported; give it another name"
            )
            continue
        workspace = key.workspace_id if isinstance(key.workspace_id, str) else ""
        identity = (workspace.lower(), str(_value(key.provider)), key.name)
        kept = chosen.setdefault(identity, key)
        if kept is not key:
            warnings.append(
                f"{key.id}: a duplicate of {kept.id} ({identity[1]}/{key.name}): not exported"
            )

    used: set[str] = set()
    entries = []
    for identity in sorted(chosen):
        key = chosen[identity]
        entry: dict[str, Any] = {"name": key.name, "provider": identity[1]}
        if identity[0]:
            entry["workspace_id"] = key.workspace_id
        variable = env_name(identity[1], str(key.name))
        suffix = 2
        while variable in used:
            variable = f"{env_name(identity[1], str(key.name))[: -len('_KEY')]}_{suffix}_KEY"
            suffix += 1
        used.add(variable)
        entry["key_env"] = variable
        for field in _MANAGED:
            value = getattr(key, field, UNSET)
            if value is not UNSET:
                entry[field] = _value(value)
        entries.append(entry)
    data = {"version": MANIFEST_VERSION, "missing_keys": "keep", "keys": entries}
    return Exported(data, tuple(warnings))


def manifest_yaml(data: dict[str, Any]) -> str:
    """*data* as a commented YAML manifest (lists of strings written inline)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        """Mappings as blocks; lists of plain values inline: ``allowed_models: [a, b]``;
        the ``keys`` list indented under its key, as manifests are usually written."""

        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, False)

    def represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
        flat = all(not isinstance(v, (dict, list)) for v in value)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        # Double quotes for a string with characters a terminal would act on: there the
        # escapes visible() writes are YAML's own, so the file reads back the same name.
        style = None if value.isprintable() else '"'
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(list, represent_list)
    Dumper.add_representer(str, represent_str)
    body = yaml.dump(
        data,
        Dumper=Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    return _HEADER + visible_lines(body)
