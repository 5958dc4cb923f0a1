"""Needs and preferences: consents, preferences, web behaviour, response rates, needs clusters,
questionnaires."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from clientbook.analytics.learning import learn_all, style_report, web_behaviour
from clientbook.analytics.preferences import customer_preferences, record_declared_preference
from clientbook.analytics.web_behaviour import WebBehaviour
from clientbook.engage.consent import (
    consent_history,
    consent_state,
    grant_consent,
    withdraw_consent,
)
from clientbook.errors import NotFound, UsageError
from clientbook.serve.api.deps import SettingsDep, TokenDep
from clientbook.store.customer360 import ConsentState, PreferenceOut
from clientbook.store.frames import customer_rates, latest_clusters
from clientbook.store.questionnaires import (
    QuestionnaireOut,
    SubmissionOut,
    create_questionnaire,
    list_questionnaires,
    submit_answers,
)
from clientbook.store.segments import member_ids

router = APIRouter(prefix="/api", tags=["needs and preferences"])


class ConsentIn(BaseModel):
    purpose: str = Field(description="marketing, personalisation or profiling")
    channel: str = Field("all", description="a channel, or all")
    status: str = Field(description="granted or withdrawn")
    source: str = Field(min_length=1, max_length=100)


class PreferenceIn(BaseModel):
    key: str = Field(max_length=64)
    value: str = Field(max_length=200)
    origin: str = Field(min_length=1, max_length=200)


class AnswersIn(BaseModel):
    customer_id: int
    answers: dict[str, Any]
    source: str = Field(min_length=1, max_length=100)


@router.get("/customers/{customer_id}/consents", response_model=list[ConsentState])
def get_consents(
    customer_id: int, settings: SettingsDep, _token: TokenDep, history: bool = False
) -> list[ConsentState]:
    """The current consent state (or, with history=true, the whole ledger)."""
    if history:
        return consent_history(settings.database_url, customer_id)
    return consent_state(settings.database_url, customer_id)


@router.post("/customers/{customer_id}/consents", response_model=ConsentState, status_code=201)
def post_consent(
    customer_id: int, body: ConsentIn, settings: SettingsDep, _token: TokenDep
) -> ConsentState:
    """Append a ledger entry: the customer granted or withdrew consent."""
    if body.status not in ("granted", "withdrawn"):
        raise UsageError("status must be granted or withdrawn.")
    record = grant_consent if body.status == "granted" else withdraw_consent
    return record(
        settings.database_url, customer_id, body.purpose, body.channel, source=body.source
    )


@router.get("/customers/{customer_id}/preferences", response_model=list[PreferenceOut])
def get_preferences(
    customer_id: int, settings: SettingsDep, _token: TokenDep, source: str | None = None
) -> list[PreferenceOut]:
    """Observed and declared preferences, newest first, with where each came from."""
    return customer_preferences(settings.database_url, customer_id, source)


@router.post("/customers/{customer_id}/preferences", response_model=PreferenceOut, status_code=201)
def post_preference(
    customer_id: int, body: PreferenceIn, settings: SettingsDep, _token: TokenDep
) -> PreferenceOut:
    """Record a declared preference."""
    return record_declared_preference(
        settings.database_url, customer_id, body.key, body.value, origin=body.origin
    )


@router.get("/customers/{customer_id}/web-behaviour", response_model=WebBehaviour)
def get_web_behaviour(customer_id: int, settings: SettingsDep, _token: TokenDep) -> WebBehaviour:
    """Visits, sources, search terms, conversion and spend on the web."""
    found = web_behaviour(settings.database_url, customer_id)
    if not found:
        raise NotFound(f"Customer {customer_id} has no web events.")
    return found[0]


@router.get("/customers/{customer_id}/response-rates")
def get_response_rates(
    customer_id: int, settings: SettingsDep, _token: TokenDep
) -> list[dict[str, Any]]:
    """Estimated response rate per channel and per message style, with 90 % intervals."""
    return customer_rates(settings.database_url, customer_id)


@router.get("/needs/clusters")
def get_clusters(settings: SettingsDep, _token: TokenDep) -> list[dict[str, Any]]:
    """The needs clusters of the latest run, described in words."""
    return latest_clusters(settings.database_url)


@router.post("/needs/learn")
def post_learn(settings: SettingsDep, _token: TokenDep) -> dict[str, Any]:
    """Recompute clusters, response rates, channel/style preferences and affinities now."""
    return learn_all(settings.database_url)


@router.get("/needs/styles")
def get_styles(
    settings: SettingsDep, _token: TokenDep, segment: str | None = None
) -> list[dict[str, Any]]:
    """Response rate per message style per needs cluster (or for one segment's members)."""
    ids = member_ids(settings.database_url, segment) if segment else None
    return style_report(settings.database_url, ids)


@router.get("/questionnaires", response_model=list[QuestionnaireOut])
def get_questionnaires(settings: SettingsDep, _token: TokenDep) -> list[QuestionnaireOut]:
    """Every questionnaire."""
    return list_questionnaires(settings.database_url)


@router.post("/questionnaires", response_model=QuestionnaireOut, status_code=201)
def post_questionnaire(
    body: Annotated[dict[str, Any], Body()], settings: SettingsDep, _token: TokenDep
) -> QuestionnaireOut:
    """Define a questionnaire: key, title, questions (id, text, kind, options, preference_key)."""
    return create_questionnaire(settings.database_url, body)


@router.post("/questionnaires/{key}/responses", response_model=SubmissionOut, status_code=201)
def post_answers(
    key: str, body: AnswersIn, settings: SettingsDep, _token: TokenDep
) -> SubmissionOut:
    """Submit a customer's answers; mapped answers become declared preferences."""
    return submit_answers(settings.database_url, key, body.customer_id, body.answers, body.source)
