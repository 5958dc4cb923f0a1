"""Questionnaires defined in the store; answers are kept and become declared preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from clientbook.errors import Conflict, NotFound, UsageError
from clientbook.store.customer360 import PreferenceOut, resolve_survivor
from clientbook.store.db import session_scope
from clientbook.store.models.needs import Questionnaire, QuestionnaireResponse
from clientbook.store.preferences import add_declared

_ID = r"^[a-z][a-z0-9_]{0,63}$"


class Question(BaseModel):
    """One question; an answer to it becomes the declared preference ``preference_key``."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    text: str = Field(min_length=1, max_length=500)
    kind: Literal["single", "multi", "text", "number"] = "single"
    options: list[str] | None = Field(None, max_length=100)
    preference_key: str | None = Field(None, pattern=_ID)


class QuestionnaireIn(BaseModel):
    """A questionnaire as defined by the business."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")
    title: str = Field(min_length=1, max_length=200)
    questions: list[Question] = Field(min_length=1, max_length=100)


class QuestionnaireOut(QuestionnaireIn):
    id: int
    created_at: datetime


class SubmissionOut(BaseModel):
    """What a submission stored."""

    questionnaire: str
    customer_id: int
    preferences: list[PreferenceOut]


def _out(row: Questionnaire) -> QuestionnaireOut:
    return QuestionnaireOut(
        id=row.id,
        key=row.key,
        title=row.title,
        created_at=row.created_at,
        questions=[Question(**q) for q in row.questions],
    )


def create_questionnaire(url: str, data: dict[str, Any]) -> QuestionnaireOut:
    """Store a new questionnaire."""
    try:
        q = QuestionnaireIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"Invalid questionnaire at {where}: {first['msg']}.") from exc
    with session_scope(url) as session:
        if session.scalar(select(Questionnaire.id).where(Questionnaire.key == q.key)):
            raise Conflict(f"A questionnaire called {q.key!r} exists.")
        row = Questionnaire(
            key=q.key, title=q.title, questions=[x.model_dump() for x in q.questions]
        )
        session.add(row)
        session.flush()
        return _out(row)


def list_questionnaires(url: str) -> list[QuestionnaireOut]:
    """Every questionnaire."""
    with session_scope(url, write=False) as session:
        return [_out(r) for r in session.scalars(select(Questionnaire).order_by(Questionnaire.key))]


def _answer_values(question: Question, answer: Any) -> list[str]:
    if question.kind == "multi":
        values = answer if isinstance(answer, list) else [answer]
    else:
        values = [answer]
    out = []
    for v in values:
        if question.kind == "number":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise UsageError(f"The answer to {question.id!r} must be a number.")
        elif not isinstance(v, str) or not v.strip() or len(v) > 200:
            raise UsageError(f"The answer to {question.id!r} must be text of 1-200 characters.")
        if question.options is not None and str(v) not in question.options:
            raise UsageError(f"{v!r} is not an option of {question.id!r}.")
        out.append(str(v).strip())
    return out


def submit_answers(
    url: str, key: str, customer_id: int, answers: dict[str, Any], source: str
) -> SubmissionOut:
    """Store a submission and record each mapped answer as a declared preference."""
    source = (source or "").strip()[:100]
    if not source:
        raise UsageError("A submission needs a source (web form, call centre agent, ...).")
    with session_scope(url) as session:
        row = session.scalar(select(Questionnaire).where(Questionnaire.key == key))
        if row is None:
            raise NotFound(f"No questionnaire called {key!r}.")
        questions = {q["id"]: Question(**q) for q in row.questions}
        unknown = sorted(set(answers) - set(questions))
        if unknown:
            raise UsageError(f"Unknown question ids: {', '.join(map(repr, unknown[:5]))}.")
        customer = resolve_survivor(session, customer_id)
        checked = {qid: _answer_values(questions[qid], a) for qid, a in answers.items()}
        session.add(
            QuestionnaireResponse(
                questionnaire_id=row.id, customer_id=customer.id, answers=answers, source=source
            )
        )
        recorded = []
        for qid, values in checked.items():
            pref_key = questions[qid].preference_key
            for value in values if pref_key else []:
                recorded.append(
                    add_declared(
                        session,
                        customer.id,
                        pref_key or "",
                        value,
                        origin=f"questionnaire:{key} ({source})",
                    )
                )
        return SubmissionOut(questionnaire=key, customer_id=customer.id, preferences=recorded)
