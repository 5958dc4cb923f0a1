"""Find a customer, see everything about them, and act: log a contact, open or resolve a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from clientbook.analytics.preferences import record_declared_preference
from clientbook.engage.consent import (
    ALL_CHANNELS,
    CONSENT_PURPOSES,
    grant_consent,
    withdraw_consent,
)
from clientbook.errors import UsageError
from clientbook.identity.identifiers import normalise
from clientbook.identity.service import list_merges
from clientbook.serve.api.deps import SettingsDep
from clientbook.serve.web.auth import AgentDep, CsrfDep
from clientbook.serve.web.charts import line_chart
from clientbook.serve.web.templating import render
from clientbook.store.contacts import (
    CASE_CATEGORIES,
    SORTS,
    CaseIn,
    CustomerQuery,
    InteractionIn,
    lifecycle_stages,
    log_interaction,
    open_case,
    resolve_case,
    search_customers,
    segment_names,
)
from clientbook.store.customer360 import customer_360
from clientbook.store.models.contacts import CHANNELS

router = APIRouter(prefix="/customers", include_in_schema=False)

#: What an agent can log from the customer page: (value, label, channel, type).
CONTACT_KINDS = {
    "call": ("Phone call", "call_centre", "call"),
    "visit": ("Store visit", "store", "visit"),
    "email": ("E-mail", "email", "email"),
    "chat": ("Chat", "chat", "chat"),
    "letter": ("Letter", "direct_mail", "letter"),
}


def _bad_parameters(exc: ValidationError) -> UsageError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "parameter"
    return UsageError(f"Parameter {where!r} is not allowed here: {first['msg']}.")


def parse_query(request: Request) -> CustomerQuery:
    """The list's parameters, checked against the allow-lists (400 otherwise)."""
    items = request.query_params.multi_items()
    if len({k for k, _ in items}) != len(items):
        raise UsageError("A parameter was given twice.")
    try:
        return CustomerQuery.model_validate(dict(items))
    except ValidationError as exc:
        raise _bad_parameters(exc) from None


@router.get("")
def customers(request: Request, settings: SettingsDep, web_session: AgentDep) -> Response:
    """The searchable, sortable, filterable list of customers (rows only for htmx)."""
    query = parse_query(request)
    url = settings.database_url
    stages = lifecycle_stages(url)
    text = query.q.strip()
    phone = (
        normalise("phone", text, settings.default_region)
        if sum(ch.isdigit() for ch in text) >= 6
        else None
    )
    page = search_customers(url, query, phone=phone, stages=stages)
    context = {
        "query": query,
        "page": page,
        "stages": stages,
        "segments": segment_names(url),
        "sorts": SORTS,
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "_customer_rows.html", context)
    return render(request, "customers.html", context)


@router.get("/{customer_id}")
def customer(
    customer_id: int, request: Request, settings: SettingsDep, web_session: AgentDep
) -> Response:
    """The customer 360: identity, accounts, value, preferences, consents, cases, timeline."""
    data = customer_360(settings.database_url, customer_id, interactions=50)
    if data.id != customer_id:  # merged away: show the survivor under its own address
        return RedirectResponse(f"/customers/{data.id}", 303)
    value = getattr(data, "value", None)  # present once the value analytics have run
    history = [p for p in getattr(value, "history", []) if p.p_alive is not None]
    p_alive_chart = (
        line_chart(
            "P(alive) over time",
            [(str(p.as_of), float(p.p_alive)) for p in history],
            fmt="{:.0%}",
            height=120,
            ceiling=1.0,
        )
        if len(history) > 1
        else None
    )
    return render(
        request,
        "customer.html",
        {
            "c": data,
            "value": value,
            "merges": list_merges(settings.database_url, party_id=data.id, limit=20),
            "p_alive_chart": p_alive_chart,
            "kinds": CONTACT_KINDS,
            "categories": CASE_CATEGORIES,
            "channels": (ALL_CHANNELS, *CHANNELS),
            "purposes": CONSENT_PURPOSES,
        },
    )


def _back_to(request: Request, customer_id: int, partial: str, settings: SettingsDep) -> Response:
    """htmx gets the refreshed part of the page; a plain form post goes back to the page."""
    if request.headers.get("HX-Request"):
        data = customer_360(settings.database_url, customer_id, interactions=50)
        context = {"c": data, "categories": CASE_CATEGORIES, "kinds": CONTACT_KINDS}
        return render(request, partial, context)
    return RedirectResponse(f"/customers/{customer_id}", 303)


@router.post("/{customer_id}/interactions", dependencies=[CsrfDep])
def log_contact(
    customer_id: int,
    request: Request,
    settings: SettingsDep,
    web_session: AgentDep,
    kind: Annotated[str, Form()],
    direction: Annotated[str, Form()] = "inbound",
    subject: Annotated[str, Form(max_length=200)] = "",
    notes: Annotated[str, Form(max_length=10_000)] = "",
    outcome: Annotated[str, Form(max_length=64)] = "",
    minutes: Annotated[int | None, Form(ge=0, le=1440)] = None,
) -> Response:
    """Log a call, visit, e-mail, chat or letter on the customer's timeline."""
    if kind not in CONTACT_KINDS:
        raise UsageError(f"Unknown kind of contact {kind!r}.")
    _label, channel, type_ = CONTACT_KINDS[kind]
    try:
        contact = InteractionIn.model_validate(
            {
                "customer_id": customer_id,
                "channel": channel,
                "direction": direction,
                "type": type_,
                "subject": subject.strip() or None,
                "notes": notes.strip() or None,
                "outcome": outcome.strip() or None,
                "duration_seconds": minutes * 60 if minutes is not None else None,
                "agent": web_session.user.email,
            }
        )
    except ValidationError as exc:
        raise _bad_parameters(exc) from None
    log_interaction(settings.database_url, contact)
    return _back_to(request, customer_id, "_timeline.html", settings)


@router.post("/{customer_id}/cases", dependencies=[CsrfDep])
def new_case(
    customer_id: int,
    request: Request,
    settings: SettingsDep,
    web_session: AgentDep,
    category: Annotated[str, Form()],
    description: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Open a case (complaint, error, ...) for the customer."""
    try:
        case = CaseIn(
            customer_id=customer_id, category=category, description=description.strip() or None
        )
    except ValidationError as exc:
        raise _bad_parameters(exc) from None
    open_case(settings.database_url, case)
    return _back_to(request, customer_id, "_cases.html", settings)


@router.post("/{customer_id}/cases/{case_pk}/resolve", dependencies=[CsrfDep])
def close_case(
    customer_id: int,
    case_pk: int,
    request: Request,
    settings: SettingsDep,
    web_session: AgentDep,
    resolution: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Resolve an open case with a note of what was done."""
    resolve_case(settings.database_url, case_pk, resolution, customer_id=customer_id)
    return _back_to(request, customer_id, "_cases.html", settings)


@router.post("/{customer_id}/preferences", dependencies=[CsrfDep])
def declare_preference(
    customer_id: int,
    settings: SettingsDep,
    web_session: AgentDep,
    key: Annotated[str, Form(max_length=100)],
    value: Annotated[str, Form(max_length=200)],
) -> Response:
    """Record what the customer told the agent they prefer (a declared preference)."""
    record_declared_preference(
        settings.database_url, customer_id, key, value, origin=f"agent:{web_session.user.email}"
    )
    return RedirectResponse(f"/customers/{customer_id}#h-prefs", 303)


@router.post("/{customer_id}/consents", dependencies=[CsrfDep])
def record_consent(
    customer_id: int,
    settings: SettingsDep,
    web_session: AgentDep,
    purpose: Annotated[str, Form()],
    channel: Annotated[str, Form()],
    status: Annotated[str, Form()],
) -> Response:
    """Append the customer's consent (or its withdrawal) to the ledger, as told to the agent."""
    if status not in ("granted", "withdrawn"):
        raise UsageError(f"Unknown consent status {status!r}.")
    record = grant_consent if status == "granted" else withdraw_consent
    record(
        settings.database_url,
        customer_id,
        purpose,
        channel,
        source=f"agent:{web_session.user.email}",
    )
    return RedirectResponse(f"/customers/{customer_id}#h-consents", 303)
