"""The schema migrates on both stores, and status reports it."""

from __future__ import annotations

import pytest

from clientbook.errors import StoreUnavailable
from clientbook.store.db import migrate, require_schema, schema_revisions
from clientbook.store.status import store_status


def test_migrate_is_idempotent_and_status_counts_every_table(database_url: str) -> None:
    before = schema_revisions(database_url)
    assert migrate(database_url) == before
    report = store_status(database_url)
    assert report.schema_revisions == before
    assert {"customers", "orders", "order_lines", "interactions", "consents"} <= set(report.counts)
    assert all(count == 0 for count in report.counts.values())


def test_uninitialised_database_says_run_init(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(StoreUnavailable, match="clientbook init"):
        require_schema(url)
