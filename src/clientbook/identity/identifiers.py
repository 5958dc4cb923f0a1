"""The registry of identifier types: how each is normalised and how unique it is.

Every identifier enters the store through :func:`normalise`, so that the same e-mail address
or phone number typed differently in two channels becomes the same (type, value).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

from clientbook.errors import UsageError


def normalise_email(value: str, _region: str) -> str | None:
    """Trim and lower-case; None when it is not shaped like an address."""
    value = value.strip().lower()
    return value if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) else None


def normalise_phone(value: str, region: str) -> str | None:
    """E.164 (``+441632960001``) with ``region`` assumed for national numbers; None if invalid."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_code(value: str, _region: str) -> str | None:
    """Codes (loyalty cards, account codes, ids): trimmed, inner spaces and dashes kept as typed."""
    value = value.strip()
    return value or None


@dataclass(frozen=True)
class IdentifierType:
    """One kind of identifier.

    ``max_per_customer`` is how many distinct values one customer may hold; ``priority`` orders
    types when evidence conflicts (lower wins); a ``household`` value (a phone, an e-mail) may be
    shared by a family or collide by chance, so it links two customers only when their names
    agree (:mod:`clientbook.identity.names`).
    """

    name: str
    normaliser: Callable[[str, str], str | None]
    max_per_customer: int
    priority: int
    description: str
    household: bool = False


IDENTIFIER_TYPES: dict[str, IdentifierType] = {
    t.name: t
    for t in (
        IdentifierType("user_id", normalise_code, 1, 1, "the customer's id in a login system"),
        IdentifierType("email", normalise_email, 5, 2, "an e-mail address", household=True),
        IdentifierType(
            "phone", normalise_phone, 5, 3, "a phone number, stored in E.164", household=True
        ),
        IdentifierType("loyalty_card", normalise_code, 3, 2, "a store loyalty card number"),
        IdentifierType("account_code", normalise_code, 3, 2, "a B2B customer account code"),
        IdentifierType("anonymous_id", normalise_code, 1000, 5, "a web or app cookie id"),
        IdentifierType("source_record", normalise_code, 1000, 4, "SOURCE:ID of an imported record"),
    )
}


def normalise(type_: str, value: str | None, region: str) -> str | None:
    """Normalise ``value`` as an identifier of ``type_``; None when empty or invalid."""
    try:
        kind = IDENTIFIER_TYPES[type_]
    except KeyError:
        known = ", ".join(IDENTIFIER_TYPES)
        raise UsageError(
            f"Unknown identifier type {type_!r}.", hint=f"Use one of: {known}."
        ) from None
    if value is None:
        return None
    return kind.normaliser(str(value), region)
