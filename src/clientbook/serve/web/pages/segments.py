"""Segments: build one with a form, see its size and members, export (marketers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from clientbook.serve.web.auth import MarketerDep
from clientbook.serve.web.templating import render

router = APIRouter(prefix="/segments", include_in_schema=False)


@router.get("")
def segments(request: Request, web_session: MarketerDep) -> Response:
    """The segments page (the segment builder arrives with the segments engine)."""
    return render(request, "pending.html", {"title": "Segments", "issue": 6})
