"""``/api/segments``: define, refresh, list members, history, CSV export that honours consent."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from clientbook.engage.exports import export_segment_csv
from clientbook.serve.api.deps import SettingsDep, TokenDep
from clientbook.store.segment_language import SCHEMA, parse_document
from clientbook.store.segments import (
    MemberOut,
    RefreshOut,
    SegmentOut,
    StayOut,
    delete_segment,
    get_segment,
    list_segments,
    refresh_segment,
    save_segment,
    segment_history,
    segment_members,
)

router = APIRouter(prefix="/api/segments", tags=["segments"])


class SegmentCreated(BaseModel):
    segment: SegmentOut
    refresh: RefreshOut


class MembersPage(BaseModel):
    total: int
    members: list[MemberOut]


class History(BaseModel):
    refreshes: list[RefreshOut]
    stays: list[StayOut]


async def _document(request: Request) -> Any:
    """The body as JSON, or as YAML when sent as application/yaml or text/yaml."""
    body = await request.body()
    return parse_document(body)


@router.get("/schema")
def schema(_token: TokenDep) -> dict[str, Any]:
    """The JSON Schema a definition must follow."""
    return SCHEMA


@router.get("", response_model=list[SegmentOut])
def list_(settings: SettingsDep, _token: TokenDep) -> list[SegmentOut]:
    """Every segment."""
    return list_segments(settings.database_url)


@router.post("", response_model=SegmentCreated, status_code=201)
async def create(request: Request, settings: SettingsDep, _token: TokenDep) -> SegmentCreated:
    """Create a segment from a JSON (or YAML) definition and refresh it."""
    saved = save_segment(settings.database_url, await _document(request))
    return SegmentCreated(segment=saved, refresh=refresh_segment(settings.database_url, saved.name))


@router.put("/{name}", response_model=SegmentCreated)
async def replace(
    name: str, request: Request, settings: SettingsDep, _token: TokenDep
) -> SegmentCreated:
    """Replace a segment's definition (the name in the body must match) and refresh it."""
    document = await _document(request)
    if isinstance(document, dict):
        document.setdefault("name", name)
    saved = save_segment(settings.database_url, document, replace=True)
    return SegmentCreated(segment=saved, refresh=refresh_segment(settings.database_url, saved.name))


@router.get("/{name}", response_model=SegmentOut)
def show(name: str, settings: SettingsDep, _token: TokenDep) -> SegmentOut:
    """One segment."""
    return get_segment(settings.database_url, name)


@router.delete("/{name}", status_code=204)
def delete(name: str, settings: SettingsDep, _token: TokenDep) -> Response:
    """Delete a segment and its history."""
    delete_segment(settings.database_url, name)
    return Response(status_code=204)


@router.post("/{name}/refresh", response_model=RefreshOut)
def refresh(name: str, settings: SettingsDep, _token: TokenDep) -> RefreshOut:
    """Recompute the members now."""
    return refresh_segment(settings.database_url, name)


@router.get("/{name}/members", response_model=MembersPage)
def members(
    name: str,
    settings: SettingsDep,
    _token: TokenDep,
    at: Annotated[datetime | None, Query(description="Members at this past time.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MembersPage:
    """Members now (or at a past time), one page."""
    total, rows = segment_members(settings.database_url, name, at=at, limit=limit, offset=offset)
    return MembersPage(total=total, members=rows)


@router.get("/{name}/history", response_model=History)
def history(
    name: str,
    settings: SettingsDep,
    _token: TokenDep,
    customer_id: Annotated[int | None, Query()] = None,
) -> History:
    """Refreshes and stays (who entered, who left, when), newest first."""
    refreshes, stays = segment_history(settings.database_url, name, customer_id=customer_id)
    return History(refreshes=refreshes, stays=stays)


@router.get("/{name}/export", response_class=Response)
def export(
    name: str,
    settings: SettingsDep,
    _token: TokenDep,
    channel: Annotated[str, Query(description="email, direct_mail, phone, sms, ...")],
    purpose: Annotated[str, Query()] = "marketing",
) -> Response:
    """CSV of members who consented; the X-Clientbook-Excluded-* headers count who was left out."""
    out = io.StringIO()
    report = export_segment_csv(settings.database_url, name, out, channel=channel, purpose=purpose)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{channel}.csv"',
            "X-Clientbook-Members": str(report.members),
            "X-Clientbook-Exported": str(report.exported),
            "X-Clientbook-Excluded-No-Consent": str(report.excluded_no_consent),
            "X-Clientbook-Excluded-No-Address": str(report.excluded_no_address),
        },
    )
