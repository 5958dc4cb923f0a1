"""Folding values for comparison: names, postcodes, phone numbers, dates, e-mail addresses.

Pure Python, so that the online resolver (the event processor) can compare names without the
probabilistic matcher's dependencies.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from typing import Any

_NOT_ALNUM = re.compile(r"[^a-z0-9 ]+")


def fold(value: Any) -> str | None:
    """Lower-case, accents and punctuation removed, spaces collapsed: for comparing names."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return _fold_text(str(value))


@lru_cache(maxsize=1 << 18)
def _fold_text(value: str) -> str | None:
    # names, cities, streets and postcodes repeat: a batch folds each distinct value once
    text = value
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = " ".join(_NOT_ALNUM.sub(" ", text.lower()).split())
    return text or None


def fold_postcode(value: Any) -> str | None:
    """Upper-case, no spaces: ``sw1a 1aa`` and ``SW1A1AA`` compare equal."""
    text = fold(value)
    return text.replace(" ", "").upper() if text else None


def fold_phone(value: Any) -> str | None:
    """The last nine digits: the same number typed nationally or with a country prefix."""
    digits = re.sub(r"\D", "", str(value)) if value is not None else ""
    return digits[-9:] if len(digits) >= 7 else None


def fold_date(value: Any) -> str | None:
    """``YYYY-MM-DD`` when the value starts with a date, else None."""
    if value is None:
        return None
    text = str(value).strip()
    match = re.match(r"(\d{4})-?(\d{2})-?(\d{2})", text)
    return f"{match[1]}-{match[2]}-{match[3]}" if match else None


def fold_email(value: Any) -> str | None:
    """Trimmed and lower-cased when it holds an ``@``, else None."""
    text = str(value).strip().lower() if value is not None else ""
    return text if "@" in text else None
