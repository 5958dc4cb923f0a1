"""``/api/identity``: the review queue, the merge log and unmerge."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from clientbook.identity.service import (
    MergeOut,
    ReviewOut,
    decide_review,
    list_merges,
    list_reviews,
    unmerge,
)
from clientbook.serve.api.deps import SettingsDep, TokenDep

router = APIRouter(prefix="/api/identity", tags=["identity"])


class DecisionIn(BaseModel):
    """A reviewer's decision on a pair."""

    decision: Literal["merge", "keep_apart"]


class UnmergeOut(BaseModel):
    merge_id: int
    kind: str
    survivor_id: int
    restored_id: int
    rows_moved_back: int
    rows_recreated: int


@router.get("/review", response_model=list[ReviewOut])
def get_reviews(
    settings: SettingsDep,
    _token: TokenDep,
    status: Annotated[
        Literal["pending", "merged", "kept_apart"], Query(description="Which pairs.")
    ] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ReviewOut]:
    """Pairs that may be one person (or one organisation), the most probable first."""
    return list_reviews(settings.database_url, status=status, limit=limit)


@router.post("/review/{review_id}", response_model=ReviewOut)
def post_decision(
    review_id: int, body: DecisionIn, settings: SettingsDep, token: TokenDep
) -> ReviewOut:
    """Merge the pair or keep it apart; the decision is recorded with the token's name."""
    return decide_review(settings.database_url, review_id, body.decision, by=f"api:{token}")


@router.get("/merges", response_model=list[MergeOut])
def get_merges(
    settings: SettingsDep,
    _token: TokenDep,
    customer_id: Annotated[int | None, Query(description="Only merges involving it.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[MergeOut]:
    """The merge log, newest first."""
    return list_merges(settings.database_url, party_id=customer_id, limit=limit)


@router.post("/merges/{merge_id}/unmerge", response_model=UnmergeOut)
def post_unmerge(merge_id: int, settings: SettingsDep, token: TokenDep) -> UnmergeOut:
    """Undo a merge: both parties as they were, kept apart from now on."""
    result = unmerge(settings.database_url, merge_id=merge_id, by=f"api:{token}")
    return UnmergeOut(**result.__dict__)
