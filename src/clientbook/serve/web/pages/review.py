"""The identity review queue: decide pairs side by side (marketers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from clientbook.errors import UsageError
from clientbook.identity.service import decide_review, list_reviews
from clientbook.serve.api.deps import SettingsDep
from clientbook.serve.web.auth import CsrfDep, MarketerDep
from clientbook.serve.web.templating import render

router = APIRouter(prefix="/review", include_in_schema=False)


@router.get("")
def review(request: Request, settings: SettingsDep, web_session: MarketerDep) -> Response:
    """Pending pairs, the most probable first, each pair side by side."""
    pairs = list_reviews(settings.database_url, status="pending", limit=20)
    return render(request, "review.html", {"pairs": pairs})


@router.post("/{review_id}", dependencies=[CsrfDep])
def decide(
    review_id: int,
    settings: SettingsDep,
    web_session: MarketerDep,
    decision: Annotated[str, Form()],
) -> Response:
    """Merge the pair, or keep it apart for good."""
    if decision == "merge":
        decide_review(settings.database_url, review_id, "merge", by=f"web:{web_session.user.email}")
    elif decision == "keep_apart":
        decide_review(
            settings.database_url, review_id, "keep_apart", by=f"web:{web_session.user.email}"
        )
    else:
        raise UsageError(f"Unknown decision {decision!r}.")
    return RedirectResponse("/review", 303)
