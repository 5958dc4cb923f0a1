"""Segments: build one with a form, see its size and members, export (marketers)."""

from __future__ import annotations

import io
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from clientbook.engage.exports import export_segment_csv
from clientbook.errors import UsageError
from clientbook.serve.api.deps import SettingsDep
from clientbook.serve.web.auth import CsrfDep, MarketerDep
from clientbook.serve.web.templating import render
from clientbook.store.consent_ledger import ALL_CHANNELS, CONSENT_PURPOSES
from clientbook.store.models.contacts import CHANNELS
from clientbook.store.segment_fields import field_registry
from clientbook.store.segment_language import OPERATORS, parse_document
from clientbook.store.segments import (
    get_segment,
    list_segments,
    preview_ids,
    refresh_segment,
    save_segment,
    segment_members,
)

router = APIRouter(prefix="/segments", include_in_schema=False)

#: Condition rows the builder form offers.
ROWS = 4
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_DAYS_AGO = re.compile(r"(\d{1,5}) days? ago")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
OPERATOR_LABELS = {
    "eq": "is",
    "ne": "is not",
    "lt": "less than / before",
    "lte": "at most",
    "gt": "more than / after",
    "gte": "at least",
    "between": "between (a, b)",
    "in": "one of (a, b, …)",
    "not_in": "none of (a, b, …)",
    "contains": "contains",
    "starts_with": "starts with",
    "is_null": "is empty",
    "not_null": "is not empty",
}


def _scalar(text: str) -> Any:
    """A typed value: a number, ``N days ago``, true/false, or the text as typed."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    if found := _DAYS_AGO.fullmatch(text.lower()):
        return {"days_ago": int(found.group(1))}
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _value(op: str, text: str) -> Any:
    if op in ("in", "not_in", "between"):
        return [_scalar(part) for part in text.split(",") if part.strip()]
    return _scalar(text)


def definition_from_form(form: FormData) -> dict[str, Any]:
    """The segment document the builder form describes (validated later by the language)."""
    advanced = str(form.get("definition") or "").strip()
    if advanced:
        document = parse_document(advanced)
        if not isinstance(document, dict):
            raise UsageError("The definition must be a JSON or YAML object.")
        return document
    conditions: list[dict[str, Any]] = []
    for i in range(ROWS):
        field = str(form.get(f"field_{i}") or "").strip()
        if not field:
            continue
        op = str(form.get(f"op_{i}") or "eq")
        if op not in OPERATORS:
            raise UsageError(f"Unknown operator {op!r}.")
        condition: dict[str, Any] = {"field": field, "op": op}
        if op not in ("is_null", "not_null"):
            condition["value"] = _value(op, str(form.get(f"value_{i}") or ""))
        conditions.append(condition)
    purpose = str(form.get("consent_purpose") or "")
    if purpose:
        channel = str(form.get("consent_channel") or ALL_CHANNELS)
        conditions.append({"consent": {"purpose": purpose, "channel": channel}})
    if not conditions:
        raise UsageError("Add at least one condition.")
    join = "any" if form.get("join") == "any" else "all"
    built: dict[str, Any] = {
        "name": str(form.get("name") or "preview").strip(),
        "where": {join: conditions},
    }
    if description := str(form.get("description") or "").strip():
        built["description"] = description
    return built


def _builder_context() -> dict[str, Any]:
    fields = sorted(field_registry().values(), key=lambda f: (f.group, f.name))
    return {
        "fields": fields,
        "operators": OPERATOR_LABELS,
        "rows": range(ROWS),
        "purposes": CONSENT_PURPOSES,
        "channels": (ALL_CHANNELS, *CHANNELS),
    }


@router.get("")
def segments(request: Request, settings: SettingsDep, web_session: MarketerDep) -> Response:
    """The segments and the builder."""
    context = {"segments": list_segments(settings.database_url), **_builder_context()}
    return render(request, "segments.html", context)


@router.post("/preview", dependencies=[CsrfDep])
async def preview(request: Request, settings: SettingsDep, web_session: MarketerDep) -> Response:
    """How many customers the form's conditions select now (nothing is stored)."""
    document = definition_from_form(await request.form())
    size = len(preview_ids(settings.database_url, document["where"]))
    return render(request, "_segment_size.html", {"size": size})


@router.post("", dependencies=[CsrfDep])
async def create(request: Request, settings: SettingsDep, web_session: MarketerDep) -> Response:
    """Save the segment, compute its members, and show it."""
    document = definition_from_form(await request.form())
    saved = save_segment(settings.database_url, document)
    refresh_segment(settings.database_url, saved.name, trigger="manual")
    return RedirectResponse(f"/segments/{saved.name}", 303)


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UsageError("Not a segment name.")
    return name


@router.get("/{name}")
def segment(
    name: str, request: Request, settings: SettingsDep, web_session: MarketerDep, page: int = 1
) -> Response:
    """One segment: its definition, size and members (100 a page)."""
    if not 1 <= page <= 100_000:
        raise UsageError("page must be 1 or more.")
    found = get_segment(settings.database_url, _checked_name(name))
    total, members = segment_members(
        settings.database_url, found.name, limit=100, offset=(page - 1) * 100
    )
    context = {
        "segment": found,
        "total": total,
        "members": members,
        "page": page,
        "pages": max(1, (total + 99) // 100),
        "channels": CHANNELS,
        "purposes": CONSENT_PURPOSES,
    }
    return render(request, "segment.html", context)


@router.post("/{name}/refresh", dependencies=[CsrfDep])
def refresh(name: str, settings: SettingsDep, web_session: MarketerDep) -> Response:
    """Recompute the members now."""
    refresh_segment(settings.database_url, _checked_name(name), trigger="manual")
    return RedirectResponse(f"/segments/{name}", 303)


@router.post("/{name}/export", dependencies=[CsrfDep])
async def export(
    name: str, request: Request, settings: SettingsDep, web_session: MarketerDep
) -> Response:
    """The members who consented to ``purpose`` on ``channel``, as CSV (formula-safe)."""
    form = await request.form()
    channel = str(form.get("channel") or "email")
    purpose = str(form.get("purpose") or "marketing")
    out = io.StringIO()
    report = export_segment_csv(
        settings.database_url, _checked_name(name), out, channel=channel, purpose=purpose
    )
    filename = f"{report.segment}-{channel}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Exported": str(report.exported),
            "X-Excluded-No-Consent": str(report.excluded_no_consent),
        },
    )
