"""The BYOK API's data, as attrs classes.

Requests (:class:`CreateBYOKKeyRequest`, :class:`UpdateBYOKKeyRequest`) are checked when
they are built, against the limits of the API's OpenAPI document, and raise
:class:`~asyncbyok.errors.ValidationError` naming every bad field. Every optional field
defaults to :data:`~asyncbyok.UNSET` (left out of the JSON); nullable fields also take
``None`` (sent as JSON ``null``).

Responses (:class:`BYOKKey`, :class:`BYOKKeyList`, :class:`DeleteResult`) are tolerant:
they decode bodies from servers older and newer than this library. A field an older
server does not send is ``UNSET`` (or its documented default); a field a newer server
adds is kept in ``extra``.

The raw provider key is write-only: it appears in no ``repr`` or ``str``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._constants import NAME_MAX_LENGTH
from ._sentinel import UNSET, Unset
from ._validation import Checker

__all__ = [
    "BYOKKey",
    "BYOKKeyList",
    "CreateBYOKKeyRequest",
    "DeclaredRegion",
    "DeleteResult",
    "ProviderSlug",
    "UpdateBYOKKeyRequest",
]


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


def _provider(value: ProviderSlug | str) -> ProviderSlug | str:
    coerced: ProviderSlug | str = ProviderSlug.coerce(value)
    return coerced


def _region(value: DeclaredRegion | str | None | Unset) -> DeclaredRegion | str | None | Unset:
    coerced: DeclaredRegion | str | None | Unset = DeclaredRegion.coerce(value)
    return coerced


def _redacted(value: object) -> str:
    return "UNSET" if value is UNSET else "'<redacted>'"


@attrs.frozen(kw_only=True)
class BYOKKey:
    """A stored provider credential, as the API returns it. The raw key is never returned.

    ``label`` is a masked snippet of the raw key (``"sk-...AbCd"``). ``workspace_id`` is
    ``None`` for a credential usable in every workspace. Fields an older server does not
    send are :data:`~asyncbyok.UNSET`; fields a newer server adds are kept in ``extra``.
    """

    id: str
    provider: ProviderSlug | str = attrs.field(converter=_provider)
    label: str
    created_at: datetime
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
    extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)
    """Fields the server sent that this version of asyncbyok does not know."""


@attrs.frozen(kw_only=True)
class BYOKKeyList:
    """One page of ``GET /byok``: the credentials and the total matching the filters."""

    data: list[BYOKKey]
    total_count: int
    extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)


@attrs.frozen(kw_only=True)
class DeleteResult:
    """The body of ``DELETE /byok/{id}``: ``deleted`` is always true on success."""

    deleted: bool
    extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)


def _check_common(c: Checker, r: CreateBYOKKeyRequest | UpdateBYOKKeyRequest) -> None:
    """The checks shared by create and update (the fields both have)."""
    c.string("name", r.name, nullable=True, max_length=NAME_MAX_LENGTH)
    c.string_list("allowed_models", r.allowed_models)
    c.string_list("allowed_user_ids", r.allowed_user_ids)
    c.api_key_hashes("allowed_api_key_hashes", r.allowed_api_key_hashes)
    for flag in ("disabled", "is_fallback", "is_byok_only", "is_required"):
        c.boolean(flag, getattr(r, flag))
    c.string("declared_region", r.declared_region, nullable=True)
    c.boolean("declared_zdr", r.declared_zdr, nullable=True)
    c.fallback_exclusive(r.is_byok_only, r.is_fallback)


@attrs.frozen(kw_only=True)
class CreateBYOKKeyRequest:
    """The body of ``POST /byok``. Checked when built; raises ``ValidationError``.

    >>> CreateBYOKKeyRequest(provider="openai", key="sk-proj-abc123", name="prod")
    CreateBYOKKeyRequest(provider=ProviderSlug.OPENAI, key='<redacted>', name='prod', ...)

    ``provider`` and ``key`` are required. Everything else defaults to ``UNSET`` and is
    left out of the JSON, so the server applies its defaults; the allowlists, ``name``,
    ``declared_region`` and ``declared_zdr`` also accept ``None`` (JSON ``null``).
    """

    provider: ProviderSlug | str = attrs.field(converter=_provider)
    key: str = attrs.field(repr=_redacted)
    name: str | None | Unset = UNSET
    allowed_models: list[str] | None | Unset = UNSET
    allowed_user_ids: list[str] | None | Unset = UNSET
    allowed_api_key_hashes: list[str] | None | Unset = UNSET
    disabled: bool | Unset = UNSET
    is_fallback: bool | Unset = UNSET
    workspace_id: str | Unset = UNSET
    declared_region: DeclaredRegion | str | None | Unset = attrs.field(
        default=UNSET, converter=_region
    )
    declared_zdr: bool | None | Unset = UNSET
    is_byok_only: bool | Unset = UNSET
    is_required: bool | Unset = UNSET

    def __attrs_post_init__(self) -> None:
        c = Checker("CreateBYOKKeyRequest")
        c.string("provider", self.provider, non_empty=True, required=True)
        c.string("key", self.key, non_empty=True, secret=True, required=True)
        c.uuid("workspace_id", self.workspace_id)
        _check_common(c, self)
        c.raise_if_any()


@attrs.frozen(kw_only=True)
class UpdateBYOKKeyRequest:
    """The body of ``PATCH /byok/{id}``: only the fields given are changed.

    >>> UpdateBYOKKeyRequest(allowed_models=None, disabled=True)  # clear, and disable
    UpdateBYOKKeyRequest(key=UNSET, name=UNSET, allowed_models=None, ...)

    ``key`` rotates the raw provider key in place (the server regenerates ``label``).
    ``None`` on a nullable field clears it; fields left ``UNSET`` keep their value.
    """

    key: str | Unset = attrs.field(default=UNSET, repr=_redacted)
    name: str | None | Unset = UNSET
    allowed_models: list[str] | None | Unset = UNSET
    allowed_user_ids: list[str] | None | Unset = UNSET
    allowed_api_key_hashes: list[str] | None | Unset = UNSET
    disabled: bool | Unset = UNSET
    is_fallback: bool | Unset = UNSET
    declared_region: DeclaredRegion | str | None | Unset = attrs.field(
        default=UNSET, converter=_region
    )
    declared_zdr: bool | None | Unset = UNSET
    is_byok_only: bool | Unset = UNSET
    is_required: bool | Unset = UNSET

    def __attrs_post_init__(self) -> None:
        c = Checker("UpdateBYOKKeyRequest")
        c.string("key", self.key, non_empty=True, secret=True)
        _check_common(c, self)
        c.raise_if_any()

    def is_empty(self) -> bool:
        """Whether no field is set (the PATCH would change nothing)."""
        return all(getattr(self, a.name) is UNSET for a in attrs.fields(type(self)))
