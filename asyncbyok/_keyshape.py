"""Telling a raw key from the other strings a caller gives: names, ids, variable names.

A key given where a name, a provider or a path belongs would be echoed by the error
that refuses it, stored in plain text, or listed: the checks that prevent that need to
recognise a key by its shape. The SDK core, the manifest reader and the command share
these (:mod:`asyncbyok.apply._keys` re-exports them).
"""

from __future__ import annotations

import re

__all__ = ["KEY_SHAPED_NAME", "KEY_TOKEN", "looks_like_key"]

# Tokens with the shape of an OpenRouter or provider key (sk-..., gsk_..., AIza...).
KEY_TOKEN = re.compile(
    r"\b(?:sk|gsk|xai|pplx|hf|r8|csk|nvapi|fw)[-_][A-Za-z0-9_\-]{8,}"
    r"|\bAIza[0-9A-Za-z_\-]{20,}"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-]+")

KEY_SHAPED_NAME = (
    "looks like a raw key, not a name (it is not shown): names are stored and listed in "
    "plain text, so give the credential another name"
)


def looks_like_key(value: str) -> bool:
    """Whether *value* looks like a raw key rather than a name, a path or a URL.

    >>> looks_like_key("sk-proj-0000000000AbCd"), looks_like_key("OPENAI_PROD_KEY")
    (True, False)
    """
    text = value.strip()
    if KEY_TOKEN.fullmatch(text):
        return True
    if len(text) < 20 or _UUID.fullmatch(text) or not _TOKEN_CHARS.fullmatch(text):
        return False
    has_digit = any(c.isdigit() for c in text)
    has_lower = any(c.islower() for c in text)
    has_upper = any(c.isupper() for c in text)
    # A long blob of letters and digits: env names are upper case, keys are not.
    return has_digit and has_lower and (has_upper or len(text) >= 32)
