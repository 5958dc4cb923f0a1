"""Row counts and schema version of the store, for `clientbook status`."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, make_url, select

from clientbook.store.db import require_schema, schema_revisions, session_scope
from clientbook.store.models import Base


class StoreStatus(BaseModel):
    """What `clientbook status` reports."""

    database_url: str
    schema_revisions: list[str]
    counts: dict[str, int]


def store_status(url: str) -> StoreStatus:
    """Count the rows of every table of the schema (customers merged away are not counted)."""
    require_schema(url)
    counts: dict[str, int] = {}
    with session_scope(url, write=False) as session:
        for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name):
            query = select(func.count()).select_from(table)
            if table.name == "customers":
                query = query.where(table.c.merged_into_id.is_(None))
            counts[table.name] = session.execute(query).scalar_one()
    return StoreStatus(
        database_url=make_url(url).render_as_string(hide_password=True),
        schema_revisions=schema_revisions(url),
        counts=counts,
    )
