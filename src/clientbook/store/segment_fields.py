"""The fields a segment condition may name, each a SQL expression correlated to the customer.

The registry is extensible: :func:`register_field` adds a field, and the value scores (the
``scores`` table of the value analytics) join automatically when that table exists in the
metadata: every score column becomes a field holding the customer's latest score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Float, Integer, Numeric, func, select

from clientbook.store.models.base import Base
from clientbook.store.models.commerce import Order
from clientbook.store.models.contacts import Case, Interaction, Preference
from clientbook.store.models.needs import CustomerNeeds
from clientbook.store.models.parties import Account, AccountMember, Customer
from clientbook.store.models.value import LifecycleChange

Kind = Literal["string", "number", "date", "boolean", "age"]


@dataclass(frozen=True)
class FieldSpec:
    """A field: its name, value kind, group (traits, demographics, ...) and SQL expression.

    ``calendar`` marks a date field that holds days, not instants (compared as dates).
    """

    name: str
    kind: Kind
    group: str
    description: str
    expression: Callable[[], ColumnElement[Any]]
    calendar: bool = False


_FIELDS: dict[str, FieldSpec] = {}


def register_field(spec: FieldSpec) -> None:
    """Add (or replace) a field of the segment language."""
    _FIELDS[spec.name] = spec


def _column(col: Any) -> Callable[[], ColumnElement[Any]]:
    return lambda: col


def _scalar(query: Any) -> Callable[[], ColumnElement[Any]]:
    return lambda: query.scalar_subquery()


def _account(column: Any) -> Callable[[], ColumnElement[Any]]:
    return _scalar(
        select(column)
        .join(AccountMember, AccountMember.account_id == Account.id)
        .where(AccountMember.customer_id == Customer.id)
        .order_by(Account.id)
        .limit(1)
    )


def _orders(aggregate: Any) -> Callable[[], ColumnElement[Any]]:
    return _scalar(select(aggregate).where(Order.customer_id == Customer.id))


def _observed(key: str) -> Callable[[], ColumnElement[Any]]:
    return _scalar(
        select(Preference.value)
        .where(Preference.customer_id == Customer.id, Preference.key == key)
        .order_by(Preference.learned_at.desc(), Preference.id.desc())
        .limit(1)
    )


def _latest_change(column: Any) -> Callable[[], ColumnElement[Any]]:
    return _scalar(
        select(column)
        .where(LifecycleChange.customer_id == Customer.id)
        .order_by(LifecycleChange.changed_on.desc(), LifecycleChange.id.desc())
        .limit(1)
    )


def _builtin() -> None:
    for name, kind, desc in (
        ("first_name", "string", "first name"),
        ("last_name", "string", "last name"),
        ("email", "string", "e-mail address"),
        ("phone", "string", "phone number (E.164)"),
        ("gender", "string", "gender as recorded"),
        ("city", "string", "city"),
        ("postcode", "string", "postcode"),
        ("country", "string", "ISO country code"),
        ("birth_date", "date", "date of birth"),
        ("lifecycle_stage", "string", "lifecycle stage (value analytics)"),
        ("created_at", "date", "when the customer was first recorded"),
    ):
        group = (
            "traits" if name in ("first_name", "last_name", "email", "phone") else "demographics"
        )
        if name in ("lifecycle_stage",):
            group = "value"
        expression = _column(getattr(Customer, name))
        register_field(FieldSpec(name, kind, group, desc, expression, name == "birth_date"))  # type: ignore[arg-type]
    for name, kind, column, desc in (
        (
            "lifecycle_stage_since",
            "date",
            LifecycleChange.changed_on,
            "day the customer entered the current lifecycle stage",
        ),
        (
            "previous_lifecycle_stage",
            "string",
            LifecycleChange.from_stage,
            "lifecycle stage before the current one",
        ),
    ):
        latest = _latest_change(column)
        register_field(FieldSpec(name, kind, "value", desc, latest, kind == "date"))  # type: ignore[arg-type]
    register_field(FieldSpec("id", "number", "traits", "customer id", _column(Customer.id)))
    register_field(
        FieldSpec(
            "age", "age", "demographics", "age in whole years today", _column(Customer.birth_date)
        )
    )
    register_field(
        FieldSpec(
            "age_band",
            "age",
            "demographics",
            "age band: 18-24, 25-34, 35-44, 45-54, 55-64, 65+",
            _column(Customer.birth_date),
        )
    )
    firmographics = (
        ("industry", "string", Account.industry, "industry of the customer's organisation"),
        ("employees", "number", Account.employees, "organisation size (employees)"),
        ("account_name", "string", Account.name, "organisation name"),
        ("account_country", "string", Account.country, "organisation country"),
    )
    for name, kind, col, desc in firmographics:
        register_field(FieldSpec(name, kind, "firmographics", desc, _account(col)))  # type: ignore[arg-type]
    behaviours: tuple[tuple[str, Kind, Any, str], ...] = (
        ("orders", "number", func.count(Order.id), "number of orders"),
        ("revenue", "number", func.coalesce(func.sum(Order.revenue), 0), "total revenue"),
        ("average_order_value", "number", func.avg(Order.revenue), "mean revenue per order"),
        ("first_order_at", "date", func.min(Order.ordered_at), "first order"),
        ("last_order_at", "date", func.max(Order.ordered_at), "latest order"),
    )
    for name, kind, agg, desc in behaviours:
        register_field(FieldSpec(name, kind, "behaviour", desc, _orders(agg)))
    register_field(
        FieldSpec(
            "interactions",
            "number",
            "behaviour",
            "contacts in any medium",
            _scalar(
                select(func.count(Interaction.id)).where(Interaction.customer_id == Customer.id)
            ),
        )
    )
    register_field(
        FieldSpec(
            "last_contact_at",
            "date",
            "behaviour",
            "latest contact in any medium",
            _scalar(
                select(func.max(Interaction.occurred_at)).where(
                    Interaction.customer_id == Customer.id
                )
            ),
        )
    )
    register_field(
        FieldSpec(
            "cases",
            "number",
            "behaviour",
            "complaints and errors recorded",
            _scalar(select(func.count(Case.id)).where(Case.customer_id == Customer.id)),
        )
    )
    register_field(
        FieldSpec(
            "needs_cluster",
            "number",
            "needs",
            "needs cluster number (clientbook needs cluster)",
            _scalar(select(CustomerNeeds.cluster).where(CustomerNeeds.customer_id == Customer.id)),
        )
    )
    register_field(
        FieldSpec(
            "needs_label",
            "string",
            "needs",
            "needs cluster label",
            _scalar(select(CustomerNeeds.label).where(CustomerNeeds.customer_id == Customer.id)),
        )
    )
    for key, desc in (
        ("preferred_channel", "channel with the best estimated response rate"),
        ("contact_orientation", "online, offline, mixed or unknown"),
        ("message_style", "rational, emotional or undecided"),
    ):
        register_field(FieldSpec(key, "string", "preferences", desc, _observed(key)))


_SKIP_SCORE_COLUMNS = {"id", "run_id", "customer_id", "as_of", "model_version", "created_at"}


def _score_fields() -> dict[str, FieldSpec]:
    """Fields for every column of the value engineer's ``scores`` table, when it exists."""
    scores = Base.metadata.tables.get("scores")
    if scores is None or "customer_id" not in scores.c:
        return {}
    newest = [scores.c.as_of.desc()] if "as_of" in scores.c else []
    order = [*newest, scores.c.id.desc()] if "id" in scores.c else newest
    fields: dict[str, FieldSpec] = {}
    for column in scores.c:
        if column.name in _SKIP_SCORE_COLUMNS:
            continue
        numeric = isinstance(column.type, (Integer, Float, Numeric))
        kind: Kind = "number" if numeric else "string"
        query = select(column).where(scores.c.customer_id == Customer.id).order_by(*order).limit(1)
        name = column.name if column.name not in _FIELDS else f"score_{column.name}"
        fields[name] = FieldSpec(
            name, kind, "value", f"latest score: {column.name}", _scalar(query)
        )
    return fields


def field_registry() -> dict[str, FieldSpec]:
    """Every field available now (built-ins, registered ones, value scores)."""
    if not _FIELDS:
        _builtin()
    return {**_score_fields(), **_FIELDS}


def trait_field(name: str) -> FieldSpec:
    """``trait.NAME``: a key of the customer's free-form traits, compared as text."""
    key = name.split(".", 1)[1]
    return FieldSpec(
        name, "string", "traits", f"trait {key}", lambda: Customer.traits[key].as_string()
    )


def lookup(name: str) -> FieldSpec | None:
    """The field called ``name`` (``trait.X`` for traits), or None."""
    if name.startswith("trait."):
        return trait_field(name)
    return field_registry().get(name)


__all__ = ["FieldSpec", "field_registry", "lookup", "register_field"]
