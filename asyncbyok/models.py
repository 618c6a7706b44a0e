"""The BYOK API's data, as attrs classes.

Requests (:class:`CreateBYOKKeyRequest`, :class:`UpdateBYOKKeyRequest`) are checked when
they are built, against the limits of the API's OpenAPI document, and raise
:class:`~asyncbyok.errors.ValidationError` naming every bad field. Every optional field
defaults to :data:`~asyncbyok.UNSET` (left out of the JSON); nullable fields also take
``None`` (sent as JSON ``null``).

Responses (:class:`BYOKKey`, :class:`BYOKKeyList`, :class:`DeleteResult`) are tolerant:
they decode bodies from servers older and newer than this library. A field an older
server does not send is ``UNSET`` (or its documented default); a field a newer server
adds is kept in ``extra``; a ``created_at`` that is not a timestamp is kept as sent
(``created_at_raw``); a list item that is not a credential at all is set aside in
``BYOKKeyList.undecodable`` instead of failing its page.

The request models are the one table of request fields: :func:`request_fields` lists
them (name, kind, nullable, required, API age), and the resource methods, the CLI options
and the emulator derive theirs from it.

The raw provider key is write-only: it appears in no ``repr`` or ``str``.
"""

# ruff: noqa: RUF009 -- `_field(...)` returns an attrs.field; ruff only knows attrs.field.

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from ._constants import NAME_MAX_LENGTH
from ._sentinel import UNSET, Unset
from ._validation import Checker, FieldKind

__all__ = [
    "API_AGES",
    "ApiAge",
    "BYOKKey",
    "BYOKKeyList",
    "CreateBYOKKeyRequest",
    "DeclaredRegion",
    "DeleteResult",
    "ProviderSlug",
    "RequestField",
    "UndecodableItem",
    "UpdateBYOKKeyRequest",
    "request_fields",
]

ApiAge = Literal["oldest", "excerpt", "newest"]
"""An age of the API (``tests/spec/NOTES.md``): the one a field first appeared in."""
API_AGES: tuple[ApiAge, ...] = ("oldest", "excerpt", "newest")
"""The ages, oldest first."""


class _OpenStrEnum(str, enum.Enum):
    """A ``str`` enum whose members print as their value (``f"{x}"`` gives ``openai``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    @classmethod
    def coerce(cls, value: Any) -> Any:
        """The member for *value* if there is one, else *value* unchanged (open enum)."""
        if type(value) is str:  # a dict lookup: this runs for every key decoded
            return cls._value2member_map_.get(value, value)
        return value


class ProviderSlug(_OpenStrEnum):
    """Upstream providers the API knows (``BYOKProviderSlug``).

    An open enum: wherever a provider is accepted or returned, a plain ``str`` the enum
    does not name yet (a provider added after this release) is kept as it is. Members
    compare equal to their strings: ``ProviderSlug.OPENAI == "openai"``.
    """

    AI21 = "ai21"
    AION_LABS = "aion-labs"
    AKASHML = "akashml"
    ALIBABA = "alibaba"
    AMAZON_BEDROCK = "amazon-bedrock"
    AMAZON_NOVA = "amazon-nova"
    AMBIENT = "ambient"
    ANTHROPIC = "anthropic"
    ARCEE_AI = "arcee-ai"
    ATLAS_CLOUD = "atlas-cloud"
    AVIAN = "avian"
    AZURE = "azure"
    BAIDU = "baidu"
    BASETEN = "baseten"
    BLACK_FOREST_LABS = "black-forest-labs"
    BYTEPLUS = "byteplus"
    CEREBRAS = "cerebras"
    CHUTES = "chutes"
    CIRRASCALE = "cirrascale"
    CLARIFAI = "clarifai"
    CLOUDFLARE = "cloudflare"
    COHERE = "cohere"
    COREWEAVE = "coreweave"
    CRUSOE = "crusoe"
    DARKBLOOM = "darkbloom"
    DATABRICKS = "databricks"
    DECART = "decart"
    DEEPGRAM = "deepgram"
    DEEPINFRA = "deepinfra"
    DEEPSEEK = "deepseek"
    DEKALLM = "dekallm"
    DIGITALOCEAN = "digitalocean"
    FEATHERLESS = "featherless"
    FIREWORKS = "fireworks"
    FISH_AUDIO = "fish-audio"
    FRIENDLI = "friendli"
    GMICLOUD = "gmicloud"
    GOOGLE_AI_STUDIO = "google-ai-studio"
    GOOGLE_VERTEX = "google-vertex"
    GROQ = "groq"
    HEYGEN = "heygen"
    INCEPTION = "inception"
    INCEPTRON = "inceptron"
    INFERACT_VLLM = "inferact-vllm"
    INFERENCE_NET = "inference-net"
    INFERMATIC = "infermatic"
    INFLECTION = "inflection"
    IO_NET = "io-net"
    IONSTREAM = "ionstream"
    KREA = "krea"
    LIQUID = "liquid"
    MAKORA = "makora"
    MANCER = "mancer"
    MARA = "mara"
    META = "meta"
    MINIMAX = "minimax"
    MISTRAL = "mistral"
    MODAL = "modal"
    MODELRUN = "modelrun"
    MODULAR = "modular"
    MOONSHOTAI = "moonshotai"
    MORPH = "morph"
    NCOMPASS = "ncompass"
    NEBIUS = "nebius"
    NEX_AGI = "nex-agi"
    NEXTBIT = "nextbit"
    NOVITA = "novita"
    NVIDIA = "nvidia"
    OPEN_INFERENCE = "open-inference"
    OPENAI = "openai"
    PARASAIL = "parasail"
    PERCEPTRON = "perceptron"
    PERPLEXITY = "perplexity"
    PHALA = "phala"
    POOLSIDE = "poolside"
    QUIVER = "quiver"
    RECRAFT = "recraft"
    REKA = "reka"
    RELACE = "relace"
    RUNWAY = "runway"
    SAIL_RESEARCH = "sail-research"
    SAKANA = "sakana"
    SAKANA_AI = "sakana-ai"
    SAMBANOVA = "sambanova"
    SEED = "seed"
    SILICONFLOW = "siliconflow"
    SOURCEFUL = "sourceful"
    STEPFUN = "stepfun"
    STREAMLAKE = "streamlake"
    SWITCHPOINT = "switchpoint"
    TENCENT = "tencent"
    TENSTORRENT = "tenstorrent"
    THINKINGMACHINES = "thinkingmachines"
    TOGETHER = "together"
    UPSTAGE = "upstage"
    VENICE = "venice"
    WAFER = "wafer"
    WANDB = "wandb"
    WANDB_LEGACY = "wandb-legacy"
    XAI = "xai"
    XIAOMI = "xiaomi"
    Z_AI = "z-ai"


class DeclaredRegion(_OpenStrEnum):
    """Self-declared routing region of a credential; an open enum like :class:`ProviderSlug`."""

    GLOBAL = "global"
    EUROPE = "europe"
    US = "us"


_REGIONS = tuple(r.value for r in DeclaredRegion)


def _provider(value: ProviderSlug | str) -> ProviderSlug | str:
    coerced: ProviderSlug | str = ProviderSlug.coerce(value)
    return coerced


def _region(value: DeclaredRegion | str | None | Unset) -> DeclaredRegion | str | None | Unset:
    coerced: DeclaredRegion | str | None | Unset = DeclaredRegion.coerce(value)
    return coerced


def _redacted(value: object) -> str:
    return "UNSET" if value is UNSET else "'<redacted>'"


# ---------------------------------------------------------------- the request field table

_FIELD = "asyncbyok.field"  # the attrs metadata key of a request field's description


@attrs.frozen(kw_only=True)
class RequestField:
    """One field of a request model, as :func:`request_fields` lists it.

    ``kind`` is what it holds (``"string"``, ``"secret"`` for the raw key, ``"boolean"``,
    ``"uuid"``, ``"string_list"``, ``"api_key_hashes"``); ``nullable`` whether ``None``
    (JSON ``null``) is a value; ``required`` whether it must be given; ``max_length`` a
    string's limit; ``since`` the API age that added it; ``omitted`` what the server
    stores when a create leaves it out (``UNSET`` where there is no fixed answer:
    ``provider``, ``key``, ``workspace_id``); ``doc`` one line of help. The attrs attribute
    (type, default) is ``attrs.fields_dict(cls)[field.name]``.
    """

    name: str
    kind: FieldKind
    nullable: bool
    required: bool
    max_length: int | None
    since: ApiAge
    omitted: Any
    doc: str


def _field(
    kind: FieldKind,
    doc: str,
    *,
    nullable: bool = False,
    required: bool = False,
    since: ApiAge = "oldest",
    max_length: int | None = None,
    converter: Any = None,
) -> Any:
    """Declare a request field: its check, its API age, and what omitting it means."""
    described = RequestField(
        name="",  # named by request_fields, from the attribute
        kind=kind,
        nullable=nullable,
        required=required,
        max_length=max_length,
        since=since,
        omitted=None if nullable else False if kind == "boolean" else UNSET,
        doc=doc,
    )
    return attrs.field(
        default=attrs.NOTHING if required else UNSET,
        converter=converter,
        repr=_redacted if kind == "secret" else True,
        metadata={_FIELD: described},
    )


_TABLES: dict[type[Any], tuple[RequestField, ...]] = {}


def request_fields(cls: type[Any]) -> tuple[RequestField, ...]:
    """The fields of a request model, in order: the one table of request fields.

    >>> [f.name for f in request_fields(UpdateBYOKKeyRequest)][:3]
    ['key', 'name', 'allowed_models']
    >>> [f.name for f in request_fields(CreateBYOKKeyRequest) if f.required]
    ['provider', 'key']

    The resource methods, the CLI's options and the emulator's records derive their field
    lists from this, so a new API field is declared once, on the models.
    """
    table = _TABLES.get(cls)
    if table is None:
        fields = attrs.fields(cls)
        table = tuple(attrs.evolve(a.metadata[_FIELD], name=a.name) for a in fields)
        _TABLES[cls] = table
    return table


def _check(request: Any) -> None:
    """Check every field of a request against its rule; raise one error naming them all."""
    cls = type(request)
    key = request.key
    c = Checker(cls.__name__, (key,) if type(key) is str and len(key) >= 8 else ())
    for field in request_fields(cls):
        value = getattr(request, field.name)
        if value is UNSET and not field.required:
            continue  # left out: nothing to check (most fields of most requests)
        c.check(field.name, field, value)
    # The one rule across fields (the server checks the merged state on update too).
    c.fallback_exclusive(request.is_byok_only, request.is_fallback)
    c.known_spelling("declared_region", request.declared_region, _REGIONS)
    c.raise_if_any()


# The bases are not slotted: slotted classes cannot be combined as bases of one class.
@attrs.frozen(kw_only=True, slots=False)
class _Request:
    def __attrs_post_init__(self) -> None:
        _check(self)


@attrs.frozen(kw_only=True, slots=False)
class _NewCredential(_Request):
    """The fields only a create has, first in its signature."""

    provider: ProviderSlug | str = _field(
        "string",
        "The upstream provider (a ProviderSlug or a newer slug).",
        required=True,
        converter=_provider,
    )
    key: str = _field("secret", "The raw provider key; never returned.", required=True)


@attrs.frozen(kw_only=True, slots=False)
class _NewKey(_Request):
    """An update's optional ``key``: rotation in place."""

    key: str | Unset = _field("secret", "A new raw provider key: rotates it in place.")


@attrs.frozen(kw_only=True, slots=False)
class _Settings(_Request):
    """The fields both create and update set: declared once, here."""

    name: str | None | Unset = _field(
        "string", "Human-readable name.", nullable=True, max_length=NAME_MAX_LENGTH
    )
    allowed_models: list[str] | None | Unset = _field(
        "string_list", "Model slugs it may be used for; null: any.", nullable=True
    )
    allowed_user_ids: list[str] | None | Unset = _field(
        "string_list", "User ids that may use it; null: any.", nullable=True
    )
    allowed_api_key_hashes: list[str] | None | Unset = _field(
        "api_key_hashes",
        "OpenRouter API key hashes that may use it; null: any.",
        nullable=True,
        since="excerpt",
    )
    disabled: bool | Unset = _field("boolean", "Whether it is disabled.")
    is_fallback: bool | Unset = _field("boolean", "Used only after the other keys.")
    declared_region: DeclaredRegion | str | None | Unset = _field(
        "string",
        "Self-declared region: global, europe or us; null: undeclared.",
        nullable=True,
        since="newest",
        converter=_region,
    )
    declared_zdr: bool | None | Unset = _field(
        "boolean",
        "Declared zero data retention; null: OpenRouter's policy.",
        nullable=True,
        since="newest",
    )
    is_byok_only: bool | Unset = _field(
        "boolean", "Remove the shared endpoints for this provider.", since="newest"
    )
    is_required: bool | Unset = _field(
        "boolean", "Remove the shared endpoints for its models.", since="newest"
    )


@attrs.frozen(kw_only=True)
class CreateBYOKKeyRequest(_Settings, _NewCredential):
    """The body of ``POST /byok``. Checked when built; raises ``ValidationError``.

    >>> CreateBYOKKeyRequest(provider="openai", key="sk-proj-abc123", name="prod")
    ... # doctest: +ELLIPSIS
    CreateBYOKKeyRequest(provider=ProviderSlug.OPENAI, key='<redacted>', name='prod', ...)

    ``provider`` and ``key`` are required. Everything else defaults to ``UNSET`` and is
    left out of the JSON, so the server applies its defaults; the allowlists, ``name``,
    ``declared_region`` and ``declared_zdr`` also accept ``None`` (JSON ``null``).
    ``workspace_id`` must be a UUID. ``key`` may not start or end with white space.
    :func:`request_fields` lists the fields.
    """

    workspace_id: str | Unset = _field("uuid", "Workspace to create it in; default: the default.")


@attrs.frozen(kw_only=True)
class UpdateBYOKKeyRequest(_Settings, _NewKey):
    """The body of ``PATCH /byok/{id}``: only the fields given are changed.

    >>> UpdateBYOKKeyRequest(allowed_models=None, disabled=True)  # doctest: +ELLIPSIS
    UpdateBYOKKeyRequest(key=UNSET, name=UNSET, allowed_models=None, ...)

    ``key`` rotates the raw provider key in place (the server regenerates ``label``).
    ``None`` on a nullable field clears it; fields left ``UNSET`` keep their value.
    """

    def is_empty(self) -> bool:
        """Whether no field is set (the PATCH would change nothing)."""
        return all(getattr(self, a.name) is UNSET for a in attrs.fields(type(self)))


# ---------------------------------------------------------------- responses

_NOT_ON_THE_WIRE = {"wire": False}  # attrs metadata: a field decoding fills in, not a JSON key


@attrs.frozen(kw_only=True)
class BYOKKey:
    """A stored provider credential, as the API returns it. The raw key is never returned.

    ``label`` is a masked snippet of the raw key (``"sk-...AbCd"``). ``workspace_id`` is
    ``None`` for a credential usable in every workspace. Fields an older server does not
    send are :data:`~asyncbyok.UNSET`; fields a newer server adds are kept in ``extra``.

    ``created_at`` is an aware ``datetime`` read from any RFC 3339 form (``Z`` or ``z``,
    any offset, a ``t`` or a space, fractions of any length; no offset is read as UTC).
    When the server sends something else (``""``, ``"yesterday"``, a number) or nothing,
    it is ``None``, and the value as sent is in ``created_at_raw`` (always the value
    as sent; ``UNSET`` when none was), so a bad timestamp never fails a call or a page.
    """

    id: str
    provider: ProviderSlug | str = attrs.field(converter=_provider)
    label: str
    created_at: datetime | None = None
    created_at_raw: Any = attrs.field(default=UNSET, eq=False, metadata=_NOT_ON_THE_WIRE)
    """``created_at`` exactly as the server sent it (any JSON value); ``UNSET`` if not sent."""
    workspace_id: str | None | Unset = UNSET
    name: str | None | Unset = UNSET
    disabled: bool = False
    is_fallback: bool = False
    allowed_models: list[str] | None | Unset = UNSET
    allowed_user_ids: list[str] | None | Unset = UNSET
    allowed_api_key_hashes: list[str] | None | Unset = UNSET
    sort_order: int | Unset = UNSET
    declared_region: DeclaredRegion | str | None | Unset = attrs.field(
        default=UNSET, converter=_region
    )
    declared_zdr: bool | None | Unset = UNSET
    is_byok_only: bool = False
    is_required: bool = False
    extra: Mapping[str, Any] = attrs.field(
        factory=dict, eq=False, hash=False, metadata=_NOT_ON_THE_WIRE
    )
    """Fields the server sent that this version of asyncbyok does not know."""


@attrs.frozen(kw_only=True)
class UndecodableItem:
    """A list item that is not a readable credential, kept as sent instead of failing its page.

    An item is undecodable when it is not a JSON object, lacks a field the spec requires
    and a credential cannot be without (``id``, ``provider``, ``label``), or holds a value
    of the wrong type (``"disabled": "no"``). ``index`` is its position in the page's
    ``data``, ``raw`` the item as sent, ``error`` what is wrong, naming the fields.
    """

    index: int
    raw: Any
    error: str

    @property
    def id(self) -> str | None:
        """The item's ``id`` if it has a string one (to fetch, fix or delete it)."""
        value = self.raw.get("id") if isinstance(self.raw, Mapping) else None
        return value if isinstance(value, str) else None


@attrs.frozen(kw_only=True)
class BYOKKeyList:
    """One page of ``GET /byok``: the credentials and the total matching the filters.

    ``data`` holds every item that decoded; ``undecodable`` the others
    (:class:`UndecodableItem`), so one malformed item never loses the rest. They still
    count in ``total_count`` and in :attr:`item_count`, which is what paging must add to
    the offset (not ``len(data)``); a page with any is worth reporting.
    """

    data: list[BYOKKey]
    total_count: int
    undecodable: list[UndecodableItem] = attrs.field(factory=list, metadata=_NOT_ON_THE_WIRE)
    extra: Mapping[str, Any] = attrs.field(
        factory=dict, eq=False, hash=False, metadata=_NOT_ON_THE_WIRE
    )

    @property
    def item_count(self) -> int:
        """How many items the server sent, decoded or not: what the next offset adds."""
        return len(self.data) + len(self.undecodable)


@attrs.frozen(kw_only=True)
class DeleteResult:
    """The body of ``DELETE /byok/{id}``: ``deleted`` is always true on success."""

    deleted: bool
    extra: Mapping[str, Any] = attrs.field(
        factory=dict, eq=False, hash=False, metadata=_NOT_ON_THE_WIRE
    )


def wire_fields(cls: type[Any]) -> tuple[str, ...]:
    """The JSON keys of a response model, in order (not ``extra``, ``created_at_raw`` ...)."""
    return tuple(a.name for a in attrs.fields(cls) if a.metadata.get("wire", True))
