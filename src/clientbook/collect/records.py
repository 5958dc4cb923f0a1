"""What a Segment message means for the customer record: identifiers, traits, contacts, orders.

Pure functions from a stored message to the plain records of :mod:`clientbook.store.activity`;
the processor resolves the customer and writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from clientbook.store.activity import AccountIn, InteractionIn, LineIn, OrderIn

#: Query parameters that carry the search terms in a search engine's referring URL.
SEARCH_PARAMS = ("q", "query", "p", "text", "wd", "k", "search_query", "qt", "terms", "search")
CAMPAIGN_FIELDS = ("source", "medium", "name", "term", "content")
#: Segment's spec trait names (and common variants) that fill a customer column.
TRAIT_ALIASES = {
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "birthday": "birth_date",
    "birth_date": "birth_date",
    "gender": "gender",
}
ADDRESS_ALIASES = {
    "street": "street",
    "city": "city",
    "postalCode": "postcode",
    "postal_code": "postcode",
    "postcode": "postcode",
    "country": "country",
}
_APP_LIBRARIES = (
    "analytics-ios",
    "analytics-android",
    "analytics-react-native",
    "analytics-flutter",
)


def _text(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, dict | list):
        return None
    return str(value)


def identify_traits(payload: dict[str, Any]) -> dict[str, Any]:
    """The traits of an identify call; RudderStack's SDKs send them in ``context.traits``."""
    context = payload.get("context") or {}
    nested = context.get("traits")
    return {**(nested if isinstance(nested, dict) else {}), **(payload.get("traits") or {})}


def identifiers(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The (type, raw value) pairs a message carries, for identity resolution."""
    found: list[tuple[str, str]] = []
    for key, kind in (("anonymousId", "anonymous_id"), ("userId", "user_id")):
        value = _text(payload.get(key))
        if value:
            found.append((kind, value))
    if payload.get("type") == "identify":
        traits = identify_traits(payload)
        for key in ("email", "phone"):
            value = _text(traits.get(key))
            if value:
                found.append((key, value))
    return found


def customer_traits(payload: dict[str, Any]) -> dict[str, Any]:
    """Traits of an identify call, spec names mapped onto customer columns; the rest as given."""
    traits = identify_traits(payload)
    out: dict[str, Any] = {}
    for key, value in traits.items():
        if key in TRAIT_ALIASES:
            out[TRAIT_ALIASES[key]] = value
        elif key == "address" and isinstance(value, dict):
            for part, column in ADDRESS_ALIASES.items():
                if _text(value.get(part)):
                    out[column] = value[part]
            out["address"] = value
        elif key == "name" and isinstance(value, str) and " " in value.strip():
            first, _, last = value.strip().partition(" ")
            out.setdefault("first_name", first)
            out.setdefault("last_name", last.strip())
            out["name"] = value
        else:
            out[key] = value
    return out


def channel(payload: dict[str, Any]) -> str:
    """``app`` for messages from a mobile app, ``web`` otherwise."""
    if payload.get("type") == "screen":
        return "app"
    context = payload.get("context") or {}
    library = str((context.get("library") or {}).get("name", ""))
    device = str((context.get("device") or {}).get("type", "")).lower()
    if context.get("app") or device in ("ios", "android") or library.startswith(_APP_LIBRARIES):
        return "app"
    return "web"


def search_terms(referrer: str | None) -> str | None:
    """The search a visitor typed into the engine that referred them, if the URL shows it."""
    if not referrer:
        return None
    query = parse_qs(urlsplit(referrer).query)
    for key in SEARCH_PARAMS:
        if query.get(key) and query[key][0].strip():
            return query[key][0].strip()
    return None


def campaign(url: str | None, context: dict[str, Any]) -> dict[str, str] | None:
    """UTM campaign fields, from ``context.campaign`` or else the page URL's ``utm_*``."""
    given = context.get("campaign")
    if isinstance(given, dict) and given:
        found = {k: str(given[k]) for k in CAMPAIGN_FIELDS if _text(given.get(k))}
        return found or None
    if not url:
        return None
    query = parse_qs(urlsplit(url).query)
    # utm_campaign is the campaign's name in the spec
    params = {k: "utm_campaign" if k == "name" else f"utm_{k}" for k in CAMPAIGN_FIELDS}
    found = {k: query[p][0] for k, p in params.items() if query.get(p)}
    return found or None


def page_properties(payload: dict[str, Any]) -> dict[str, Any]:
    """URL, path, title, referrer, search, campaign, search terms and ids of a page view."""
    props = payload.get("properties") or {}
    context = payload.get("context") or {}
    page = context.get("page") or {}
    out: dict[str, Any] = {}
    for key in ("url", "path", "title", "referrer", "search"):
        value = _text(props.get(key)) or _text(page.get(key))
        if value is not None:
            out[key] = value
    if _text(payload.get("name")):
        out["name"] = payload["name"]
    found = campaign(out.get("url"), context)
    if found:
        out["campaign"] = found
    terms = search_terms(out.get("referrer"))
    if terms:
        out["search_terms"] = terms
    if _text(payload.get("anonymousId")):
        out["anonymous_id"] = payload["anonymousId"]
    session_id = props.get("session_id") or context.get("sessionId") or context.get("session_id")
    if _text(session_id):
        out["session_id"] = str(session_id)
    extra = {k: v for k, v in props.items() if k not in out}
    return {**extra, **out}


def interaction(
    payload: dict[str, Any], source: str, customer_id: int, occurred_at: datetime
) -> InteractionIn | None:
    """The contact a page, screen or track message records (None for other types)."""
    kind = payload.get("type")
    if kind == "page":
        props, type_, chan = page_properties(payload), "page", "web"
    elif kind == "screen":
        props = dict(payload.get("properties") or {})
        if _text(payload.get("name")):
            props["name"] = payload["name"]
        type_, chan = "screen", "app"
    elif kind == "track":
        props, type_, chan = (
            dict(payload.get("properties") or {}),
            payload["event"],
            channel(payload),
        )
    else:
        return None
    return InteractionIn(
        source=source,
        interaction_id=payload["messageId"],
        customer_id=customer_id,
        channel=chan,
        type=type_,
        occurred_at=occurred_at,
        properties=props,
        subject=_text(payload.get("name")) or (type_ if kind == "track" else None),
    )


def _number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def order(
    payload: dict[str, Any], source: str, customer_id: int, ordered_at: datetime
) -> OrderIn | None:
    """The order of an ``Order Completed`` event (None for any other message)."""
    if payload.get("type") != "track" or payload.get("event") != "Order Completed":
        return None
    props = payload.get("properties") or {}
    lines = []
    for product in props.get("products") or []:
        if not isinstance(product, dict):
            continue
        sku = _text(product.get("sku")) or _text(product.get("product_id"))
        quantity = max(int(_number(product.get("quantity"), 1)), 1)
        lines.append(
            LineIn(
                sku=sku,
                quantity=quantity,
                price=_number(product.get("price")),
                name=_text(product.get("name")),
                brand=_text(product.get("brand")),
                category=_text(product.get("category")),
            )
        )
    revenue = props.get("revenue", props.get("total"))
    total = _number(revenue) if revenue is not None else sum(li.price * li.quantity for li in lines)
    return OrderIn(
        source=source,
        order_id=_text(props.get("order_id"))
        or _text(props.get("checkout_id"))
        or payload["messageId"],
        customer_id=customer_id,
        ordered_at=ordered_at,
        revenue=round(total, 2),
        currency=_text(props.get("currency")),
        channel=channel(payload),
        lines=lines,
    )


def account(payload: dict[str, Any], source: str) -> AccountIn | None:
    """The account a group message names (None for any other message)."""
    if payload.get("type") != "group":
        return None
    traits = dict(payload.get("traits") or {})
    employees = traits.get("employees")
    try:
        count = int(employees) if employees not in (None, "") else None
    except (TypeError, ValueError):
        count = None
    return AccountIn(
        source=source,
        account_id=str(payload["groupId"]),
        name=_text(traits.get("name")),
        industry=_text(traits.get("industry")),
        employees=count,
        traits={k: v for k, v in traits.items() if k not in ("name", "industry", "employees")},
    )
