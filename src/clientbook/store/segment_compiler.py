"""Compile a validated segment definition into a parameterised SQLAlchemy query.

Field names are looked up in the registry (never spliced into SQL); every value becomes a bound
parameter; ``contains`` and ``starts_with`` escape LIKE wildcards. Merged-away customers are never
members. A comparison with an unknown (null) value is false, and ``not`` of it true.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select, true

from clientbook.errors import UsageError
from clientbook.store.consent_ledger import granted_clause
from clientbook.store.models.commerce import Order, OrderLine, Product
from clientbook.store.models.contacts import Interaction, Preference
from clientbook.store.models.needs import Segment, SegmentMembership
from clientbook.store.models.parties import Customer
from clientbook.store.segment_fields import FieldSpec, lookup

AGE_BANDS = {
    "18-24": (18, 24),
    "25-34": (25, 34),
    "35-44": (35, 44),
    "45-54": (45, 54),
    "55-64": (55, 64),
    "65+": (65, 150),
}


def compile_segment(where: dict[str, Any], now: datetime | None = None) -> Select[int]:
    """The query selecting the ids of the customers matching ``where`` at ``now``."""
    compiler = _Compiler(now or datetime.now(UTC))
    return (
        select(Customer.id)
        .where(Customer.merged_into_id.is_(None), compiler.condition(where))
        .order_by(Customer.id)
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


class _Compiler:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def condition(self, node: dict[str, Any]) -> ColumnElement[bool]:
        if "all" in node:
            return and_(true(), *(self.condition(c) for c in node["all"]))
        if "any" in node:
            return or_(false(), *(self.condition(c) for c in node["any"]))
        if "not" in node:
            # Two-valued: "not" holds whenever the condition does not, also when a field it
            # compares is unknown (SQL's NOT of NULL would leave those customers out).
            return not_(func.coalesce(self.condition(node["not"]), false()))
        if "field" in node:
            return self.field(node["field"], node["op"], node.get("value"))
        if "event" in node:
            return self.event(node)
        if "purchase" in node:
            return self.purchase(node)
        if "preference" in node:
            return self.preference(node["preference"])
        if "consent" in node:
            return granted_clause(
                Customer.id, node["consent"]["purpose"], node["consent"]["channel"]
            )
        if "in_segment" in node:
            return exists().where(
                SegmentMembership.customer_id == Customer.id,
                SegmentMembership.left_at.is_(None),
                SegmentMembership.segment_id
                == select(Segment.id).where(Segment.name == node["in_segment"]).scalar_subquery(),
            )
        raise UsageError("Unknown condition.")  # the schema makes this unreachable

    # --- fields ---------------------------------------------------------------------------

    def field(self, name: str, op: str, value: Any) -> ColumnElement[bool]:
        spec = lookup(name)
        if spec is None:
            raise UsageError(
                f"Unknown field {name!r}.", hint="`clientbook segment fields` lists the fields."
            )
        if spec.kind == "age":
            return self.age(spec, op, value)
        column = spec.expression()
        if op == "is_null":
            return column.is_(None)
        if op == "not_null":
            return column.is_not(None)
        if op in ("in", "not_in"):
            items = self.values(spec, value, list_=True)
            clause = column.in_(items)
            return column.not_in(items) if op == "not_in" else clause
        if op == "between":
            low, high = self.values(spec, value, list_=True, length=2)
            return column.between(low, high)
        one = self.value(spec, value)
        if op in ("contains", "starts_with"):
            if spec.kind != "string":
                raise UsageError(f"{op} applies to text fields; {name!r} is a {spec.kind}.")
            text = str(one).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{text}%" if op == "contains" else f"{text}%"
            return column.like(pattern, escape="\\")
        comparisons = {
            "eq": column.__eq__,
            "ne": column.__ne__,
            "lt": column.__lt__,
            "lte": column.__le__,
            "gt": column.__gt__,
            "gte": column.__ge__,
        }
        return comparisons[op](one)  # type: ignore[no-any-return]

    def values(
        self, spec: FieldSpec, value: Any, *, list_: bool, length: int | None = None
    ) -> list[Any]:
        if not isinstance(value, list) or (length is not None and len(value) != length):
            need = f"a list of {length} values" if length else "a list of values"
            raise UsageError(f"The condition on {spec.name!r} needs {need}.")
        return [self.value(spec, v) for v in value]

    def value(self, spec: FieldSpec, value: Any) -> Any:
        if spec.kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(f"{spec.name!r} is a number; {value!r} is not.")
            return value
        if spec.kind == "date":
            return self.instant(spec, value)
        if spec.kind == "boolean":
            if not isinstance(value, bool):
                raise UsageError(f"{spec.name!r} is true or false; {value!r} is not.")
            return value
        if not isinstance(value, str):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            raise UsageError(f"{spec.name!r} is text; {value!r} is not.")
        return value

    def instant(self, spec: FieldSpec, value: Any) -> Any:
        if isinstance(value, dict):
            moment = self.now - timedelta(days=int(value["days_ago"]))
            return moment.date() if spec.calendar else moment
        if isinstance(value, str):
            try:
                parsed = date.fromisoformat(value) if len(value) == 10 else None
                if parsed is not None:
                    if spec.calendar:
                        return parsed
                    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
                moment = datetime.fromisoformat(value)
                return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            except ValueError:
                pass
        raise UsageError(
            f"{spec.name!r} is a date: give YYYY-MM-DD, an ISO timestamp or {{days_ago: N}}."
        )

    def age(self, spec: FieldSpec, op: str, value: Any) -> ColumnElement[bool]:
        """Ages become ranges of birth dates, so the SQL is the same on every database."""
        born = Customer.birth_date
        today = self.now.date()
        if op == "is_null":
            return born.is_(None)
        if op == "not_null":
            return born.is_not(None)

        def years(v: Any) -> tuple[int, int]:
            if spec.name == "age_band":
                if v not in AGE_BANDS:
                    raise UsageError(
                        f"Unknown age band {v!r}.", hint=f"Use {', '.join(AGE_BANDS)}."
                    )
                return AGE_BANDS[v]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 150:
                raise UsageError(f"An age is a whole number of years; {v!r} is not.")
            return v, v

        def within(low: int, high: int) -> ColumnElement[bool]:
            # age in [low, high]  <=>  born in (today - (high+1) years, today - low years]
            return and_(born > _years_before(today, high + 1), born <= _years_before(today, low))

        if op in ("eq", "ne"):
            clause = within(*years(value))
            return and_(born.is_not(None), not_(clause)) if op == "ne" else clause
        if op in ("in", "not_in"):
            if not isinstance(value, list):
                raise UsageError(f"The condition on {spec.name!r} needs a list of values.")
            clause = or_(false(), *(within(*years(v)) for v in value))
            return and_(born.is_not(None), not_(clause)) if op == "not_in" else clause
        if op == "between" and isinstance(value, list) and len(value) == 2:
            return within(years(value[0])[0], years(value[1])[1])
        if op in ("gte", "gt", "lte", "lt"):
            low, high = years(value)
            if op == "gte":
                return born <= _years_before(today, low)
            if op == "gt":
                return born <= _years_before(today, high + 1)
            if op == "lte":
                return born > _years_before(today, high + 1)
            return born > _years_before(today, low)
        raise UsageError(f"The operator {op!r} does not apply to {spec.name!r}.")

    # --- behaviours, preferences ------------------------------------------------------------

    def _counted(self, count: Any, node: dict[str, Any]) -> ColumnElement[bool]:
        low = node.get("min_count", 1)
        clause: ColumnElement[bool] = count >= low
        if "max_count" in node:
            clause = and_(clause, count <= node["max_count"])
        return clause

    def event(self, node: dict[str, Any]) -> ColumnElement[bool]:
        spec = node["event"]
        query = select(func.count(Interaction.id)).where(Interaction.customer_id == Customer.id)
        for key in ("channel", "type", "direction", "outcome"):
            if key in spec:
                query = query.where(getattr(Interaction, key) == spec[key])
        if "within_days" in node:
            since = self.now - timedelta(days=node["within_days"])
            query = query.where(Interaction.occurred_at >= since)
        return self._counted(query.scalar_subquery(), node)

    def purchase(self, node: dict[str, Any]) -> ColumnElement[bool]:
        spec = node["purchase"]
        query = select(func.count(func.distinct(Order.id))).where(Order.customer_id == Customer.id)
        if any(k in spec for k in ("category", "brand", "sku")):
            query = query.join(OrderLine, OrderLine.order_pk == Order.id).outerjoin(
                Product, Product.sku == OrderLine.sku
            )
            if "category" in spec:
                query = query.where(Product.category == spec["category"])
            if "brand" in spec:
                brand = spec["brand"]
                query = query.where(
                    or_(
                        OrderLine.brand == brand,
                        and_(OrderLine.brand.is_(None), Product.brand == brand),
                    )
                )
            if "sku" in spec:
                query = query.where(OrderLine.sku == spec["sku"])
        if "channel" in spec:
            query = query.where(Order.channel == spec["channel"])
        if "within_days" in node:
            query = query.where(Order.ordered_at >= self.now - timedelta(days=node["within_days"]))
        return self._counted(query.scalar_subquery(), node)

    def preference(self, spec: dict[str, Any]) -> ColumnElement[bool]:
        query = exists().where(Preference.customer_id == Customer.id, Preference.key == spec["key"])
        if "value" in spec:
            query = query.where(Preference.value == spec["value"])
        if "source" in spec:
            query = query.where(Preference.source == spec["source"])
        if "min_confidence" in spec:
            query = query.where(Preference.confidence >= spec["min_confidence"])
        return query
