"""The identity review queue: decide pairs side by side (marketers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from clientbook.serve.web.auth import MarketerDep
from clientbook.serve.web.templating import render

router = APIRouter(prefix="/review", include_in_schema=False)


@router.get("")
def review(request: Request, web_session: MarketerDep) -> Response:
    """The review queue page (the pairs arrive with probabilistic matching)."""
    return render(request, "pending.html", {"title": "Identity review", "issue": 4})
