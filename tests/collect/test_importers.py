"""Importers: real CDNOW data, all-or-nothing validation, idempotency, every kind and format."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from clientbook.collect.importers import import_file
from clientbook.errors import InvalidInput, UsageError
from clientbook.store.customer360 import customer_360, find_customer_ids
from clientbook.store.db import session_scope
from clientbook.store.models.commerce import Order, OrderLine
from clientbook.store.status import store_status
from tests.conftest import CDNOW


def cdnow_orders_csv(out: Path) -> Path:
    """CDNOW_sample.txt as the canonical orders CSV: one order per line of the file."""
    path = out / "cdnow_orders.csv"
    with (CDNOW / "CDNOW_sample.txt").open() as src, path.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["order_id", "customer_id", "ordered_at", "revenue", "quantity"])
        for n, line in enumerate(src, start=1):
            _master, sample_id, day, cds, dollars = line.split()
            writer.writerow([n, sample_id, f"{day[:4]}-{day[4:6]}-{day[6:]}", dollars, cds])
    return path


def test_cdnow_sample_imports_with_the_published_counts(database_url: str, tmp_path: Path) -> None:
    path = cdnow_orders_csv(tmp_path)
    first = import_file(database_url, "orders", path, source="cdnow")
    assert (first.rows, first.inserted, first.customers_created) == (6919, 6919, 2357)
    counts = store_status(database_url).counts
    assert counts["customers"] == 2357 and counts["orders"] == 6919
    assert counts["order_lines"] == 6919
    again = import_file(database_url, "orders", path, source="cdnow")
    assert (again.inserted, again.skipped, again.customers_created) == (0, 6919, 0)
    assert store_status(database_url).counts == counts
    with session_scope(database_url, write=False) as session:
        total = session.scalar(select(func.sum(Order.revenue)))
        cds = session.scalar(select(func.sum(OrderLine.quantity)))
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None)
    assert total == pytest.approx(raw[4].sum(), abs=0.01)
    assert cds == raw[3].sum()


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_one_bad_row_loads_nothing_and_names_each_problem(
    database_url: str, tmp_path: Path
) -> None:
    rows = [
        {"order_id": "A1", "customer_id": "c1", "ordered_at": "2026-01-05", "revenue": "12.50"},
        {"order_id": "A2", "customer_id": "c2", "ordered_at": "5th of May", "revenue": "3"},
        {"order_id": "A3", "customer_id": "", "ordered_at": "2026-01-07", "revenue": "ten"},
    ]
    path = write_csv(tmp_path / "orders.csv", rows)
    with pytest.raises(InvalidInput) as caught:
        import_file(database_url, "orders", path)
    assert caught.value.problems == [
        "orders.csv: line 3, column ordered_at: not an ISO 8601 date (YYYY-MM-DD or "
        "YYYY-MM-DDTHH:MM:SS)",
        "orders.csv: line 4, column customer_id: missing value",
        "orders.csv: line 4, column revenue: not a number",
    ]
    assert "2 bad row(s)" in str(caught.value)
    assert store_status(database_url).counts["orders"] == 0
    assert store_status(database_url).counts["customers"] == 0


def test_report_stops_at_twenty_then_counts(sqlite_url: str, tmp_path: Path) -> None:
    rows = [
        {"order_id": i, "customer_id": "c", "ordered_at": "2026-01-01", "revenue": "x"}
        for i in range(30)
    ]
    with pytest.raises(InvalidInput) as caught:
        import_file(sqlite_url, "orders", write_csv(tmp_path / "o.csv", rows))
    assert len(caught.value.problems) == 21
    assert caught.value.problems[-1] == "... and 10 more problems"


def test_unknown_column_and_map(sqlite_url: str, tmp_path: Path) -> None:
    rows = [{"id": "A1", "client": "c1", "date": "2026-01-05", "revenue": 5, "colour": "red"}]
    path = write_csv(tmp_path / "export.csv", rows)
    with pytest.raises(UsageError, match="Unknown column"):
        import_file(sqlite_url, "orders", path)
    rows[0].pop("colour")
    path = write_csv(tmp_path / "export.csv", rows)
    mapping = {"id": "order_id", "client": "customer_id", "date": "ordered_at"}
    result = import_file(sqlite_url, "orders", path, mapping=mapping)
    assert (result.inserted, result.source) == (1, "export")


def test_customers_and_their_contacts_in_every_format(database_url: str, tmp_path: Path) -> None:
    customers = [
        {
            "customer_id": "L-1",
            "first_name": "Ann",
            "last_name": "Lee",
            "email": " Ann.Lee@Example.COM ",
            "phone": "01632 960001",
            "birth_date": "1980-04-02",
            "gender": "F",
            "city": "Leeds",
            "country": "GB",
            "loyalty_card": "7700123",
        },
        {"customer_id": "L-2", "first_name": "Bo", "last_name": "Ng", "email": "bo@example.org"},
    ]
    write_csv(tmp_path / "loyalty.csv", customers)
    assert import_file(database_url, "customers", tmp_path / "loyalty.csv").inserted == 2
    pd.DataFrame(
        [
            {
                "order_id": "S1",
                "customer_id": "L-1",
                "ordered_at": pd.Timestamp("2026-02-01 10:00", tz="UTC"),
                "revenue": 40.0,
                "cost": 25.0,
                "product_id": "SKU1",
                "channel": "store",
            },
            {
                "order_id": "S1",
                "customer_id": "L-1",
                "ordered_at": pd.Timestamp("2026-02-01 10:00", tz="UTC"),
                "revenue": 10.0,
                "cost": 4.0,
                "product_id": "SKU2",
                "channel": "store",
            },
        ]
    ).to_parquet(tmp_path / "till.parquet")
    orders = import_file(
        database_url, "orders", tmp_path / "till.parquet", customer_source="loyalty"
    )
    assert (orders.inserted, orders.customers_created) == (1, 0)
    with (tmp_path / "calls.jsonl").open("w") as f:
        for n, when in enumerate(["2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z"]):
            record = {
                "interaction_id": f"call-{n}",
                "customer_id": "L-1",
                "occurred_at": when,
                "channel": "call_centre",
                "duration_seconds": 300,
                "notes": f"call {n}",
            }
            f.write(json.dumps(record) + "\n")
    import_file(database_url, "interactions", tmp_path / "calls.jsonl", customer_source="loyalty")
    write_csv(
        tmp_path / "cases.csv",
        [
            {
                "case_id": "K1",
                "customer_id": "L-1",
                "category": "late delivery",
                "opened_at": "2026-03-02T09:05:00Z",
            }
        ],
    )
    import_file(database_url, "cases", tmp_path / "cases.csv", customer_source="loyalty")
    consents = [
        {
            "customer_id": "L-1",
            "purpose": "marketing",
            "channel": "email",
            "status": "granted",
            "recorded_at": "2026-01-01",
        },
        {
            "customer_id": "L-1",
            "purpose": "marketing",
            "channel": "email",
            "status": "withdrawn",
            "recorded_at": "2026-03-01",
        },
    ]
    write_csv(tmp_path / "consents.csv", consents)
    assert (
        import_file(
            database_url, "consents", tmp_path / "consents.csv", customer_source="loyalty"
        ).inserted
        == 2
    )
    assert (
        import_file(
            database_url, "consents", tmp_path / "consents.csv", customer_source="loyalty"
        ).inserted
        == 0
    )

    [ann] = find_customer_ids(database_url, "email", "ann.lee@example.com")
    assert find_customer_ids(database_url, "phone", "+441632960001") == [ann]
    view = customer_360(database_url, ann)
    assert (view.first_name, view.gender, view.city) == ("Ann", "female", "Leeds")
    assert view.orders.orders == 1 and view.orders.revenue == 50.0 and view.orders.margin == 21.0
    assert [i.notes for i in view.interactions] == ["call 1", "call 0"]
    assert [c.category for c in view.open_cases] == ["late delivery"]
    assert [(c.purpose, c.status) for c in view.consents] == [("marketing", "withdrawn")]


def test_bad_customer_fields_are_reported(sqlite_url: str, tmp_path: Path) -> None:
    rows = [{"customer_id": "1", "email": "not-an-address", "gender": "robot", "phone": "12"}]
    with pytest.raises(InvalidInput) as caught:
        import_file(sqlite_url, "customers", write_csv(tmp_path / "c.csv", rows))
    assert [p.split("column ")[1].split(":")[0] for p in caught.value.problems] == [
        "email",
        "gender",
        "phone",
    ]


def test_order_lines_known_and_new_customers_round_trip(database_url: str, tmp_path: Path) -> None:
    people = [{"customer_id": f"L-{n}", "email": f"p{n}@example.com"} for n in range(5)]
    import_file(database_url, "customers", write_csv(tmp_path / "loyalty.csv", people))
    lines = [
        ("O1", "L-3", "2026-02-01T10:30:00+02:00", "10.50", "4", "2", "Acme", "SKU1"),
        ("O1", "L-3", "2026-02-01T10:30:00+02:00", "5.25", "", "", "Bolt", "SKU2"),
        ("O2", "N-9", "2026-02-03", "7", "3", "1", "Acme", "SKU1"),
    ]
    columns = ["order_id", "customer_id", "ordered_at", "revenue", "cost", "quantity", "brand"]
    rows = [dict(zip([*columns, "product_id"], line, strict=True)) for line in lines]
    path = write_csv(tmp_path / "till.csv", rows)
    first = import_file(
        database_url, "orders", path, source="till", customer_source="loyalty", batch_size=2
    )
    assert (first.inserted, first.customers_created) == (2, 1)
    with session_scope(database_url, write=False) as session:
        orders = {o.order_id: o for o in session.scalars(select(Order))}
        stored = session.execute(
            select(OrderLine.order_pk, OrderLine.line_no, OrderLine.sku, OrderLine.quantity)
        ).all()
    o1, o2 = orders["O1"], orders["O2"]
    assert (o1.revenue, o1.cost, o1.brand, o1.currency) == (15.75, None, None, "EUR")
    assert (o2.revenue, o2.cost, o2.brand) == (7.0, 3.0, "Acme")
    assert o1.ordered_at.replace(tzinfo=None) == pd.Timestamp("2026-02-01 08:30").to_pydatetime()
    assert sorted(stored) == sorted(
        [(o1.id, 1, "SKU1", 2), (o1.id, 2, "SKU2", 1), (o2.id, 1, "SKU1", 1)]
    )
    [l3] = find_customer_ids(database_url, "email", "p3@example.com")
    assert o1.customer_id == l3
    assert find_customer_ids(database_url, "source_record", "loyalty:N-9") == [o2.customer_id]
    again = import_file(database_url, "orders", path, source="till", customer_source="loyalty")
    assert (again.inserted, again.skipped, again.customers_created) == (0, 3, 0)
