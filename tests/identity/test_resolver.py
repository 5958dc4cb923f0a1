"""`identity resolve` over imported records: deterministic, probabilistic, review, dry run."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from clientbook.config import Settings
from clientbook.identity.resolver import resolve_new
from clientbook.identity.service import decide_review, export_records, list_reviews, unmerge
from clientbook.store.db import session_scope
from clientbook.store.models.identity import IdentityMerge
from clientbook.store.models.parties import Account, AccountMember, AccountRelationship, Customer
from tests.identity.records import add_record


def alive(url: str) -> int:
    with session_scope(url, write=False) as session:
        return (
            session.scalar(select(func.count(Customer.id)).where(Customer.merged_into_id.is_(None)))
            or 0
        )


def load_people(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {
            "crm-ann": add_record(
                session,
                "crm",
                "1",
                first_name="Ann",
                last_name="Lee",
                email="ann@example.com",
                birth_date="1980-02-01",
                postcode="SW1A 1AA",
            ),
            "shop-ann": add_record(
                session,
                "shop",
                "77",
                first_name="Ann",
                last_name="Lee",
                email="ANN@example.com ",
                loyalty_card="LC-1",
            ),
            "web-ann": add_record(session, "web", "u-1", user_id="u-1", loyalty_card="LC-1"),
            "crm-bob": add_record(
                session,
                "crm",
                "2",
                first_name="Bob",
                last_name="Ray",
                email="undefined",
                phone="07700 900001",
            ),
            "crm-cy": add_record(
                session,
                "crm",
                "3",
                first_name="Cy",
                last_name="Ray",
                email="undefined",
                user_id="u-9",
            ),
            # a family e-mail: two logins, one address
            "web-mum": add_record(session, "web", "m", user_id="mum", email="fam@example.com"),
            "web-son": add_record(session, "web", "s", user_id="son", email="fam@example.com"),
        }


def test_dry_run_reports_and_changes_nothing(database_url: str) -> None:
    ids = load_people(database_url)
    settings = Settings(database_url=database_url)
    report = resolve_new(settings, dry_run=True, probabilistic=False)
    assert report.dry_run and report.deterministic_merges == 2
    assert report.merges[0].survivor_id == ids["crm-ann"] and report.merges[0].absorbed == 2
    assert alive(database_url) == 7
    with session_scope(database_url, write=False) as session:
        assert session.scalar(select(func.count(IdentityMerge.id))) == 0
    real = resolve_new(settings, probabilistic=False)
    assert real.deterministic_merges == 2 and alive(database_url) == 5


def test_resolve_merges_on_shared_keys_with_guards_and_is_incremental(
    database_url: str, tmp_path: Path
) -> None:
    ids = load_people(database_url)
    settings = Settings(database_url=database_url)
    report = resolve_new(settings, probabilistic=False)
    assert report.customers_before == 7 and report.customers_after == 5
    pending = list_reviews(database_url)
    assert [(r.left.id, r.right.id) for r in pending] == [(ids["web-mum"], ids["web-son"])]
    assert "user_id" in pending[0].reason
    # nothing new: nothing happens
    again = resolve_new(settings, probabilistic=False)
    assert again.new_identifiers == 0 and again.deterministic_merges == 0
    # a new record that joins Bob's phone
    with session_scope(database_url) as session:
        late = add_record(session, "callcentre", "c-5", phone="+44 7700 900001")
    third = resolve_new(settings, probabilistic=False)
    assert third.deterministic_merges == 1 and third.merges[0].survivor_id == ids["crm-bob"]
    assert late != ids["crm-bob"]
    out = tmp_path / "export.csv"
    assert export_records(database_url, out) == 8
    rows = {
        (r["source"], r["source_record_id"]): int(r["customer_id"])
        for r in csv.DictReader(out.open())
    }
    assert rows[("shop", "77")] == rows[("web", "u-1")] == ids["crm-ann"]
    assert rows[("callcentre", "c-5")] == ids["crm-bob"]
    assert rows[("web", "m")] != rows[("web", "s")]
    # a reviewer decides the family pair; then undoes a batch merge
    decided = decide_review(database_url, pending[0].id, "keep_apart", by="tests")
    assert decided.status == "kept_apart"
    result = unmerge(database_url, absorbed_id=ids["web-ann"])
    assert result.restored_id == ids["web-ann"]
    export_records(database_url, out)
    rows = {
        (r["source"], r["source_record_id"]): int(r["customer_id"])
        for r in csv.DictReader(out.open())
    }
    assert rows[("web", "u-1")] == ids["web-ann"] and rows[("shop", "77")] == ids["crm-ann"]


def test_probabilistic_matching_merges_confident_pairs_and_queues_doubtful_ones(
    database_url: str,
) -> None:
    with session_scope(database_url) as session:
        crm = add_record(
            session,
            "crm",
            "10",
            first_name="Margaret",
            last_name="Thornton",
            birth_date="1975-06-30",
            street="12 Mill Lane",
            city="Leeds",
            postcode="LS1 4AB",
            phone="0113 496 0000",
        )
        add_record(
            session,
            "crm",
            "11",
            first_name="Peter",
            last_name="Quill",
            birth_date="1990-01-01",
            street="1 High St",
            city="York",
            postcode="YO1 1AA",
        )
    settings = Settings(database_url=database_url, identity_review_threshold=0.5)
    resolve_new(settings)
    with session_scope(database_url) as session:
        store = add_record(
            session,
            "store",
            "s-1",
            first_name="Margret",
            last_name="Thornton",
            birth_date="1975-06-30",
            street="12 Mill Ln",
            city="Leeds",
            postcode="LS14AB",
        )
        add_record(session, "store", "s-2", first_name="P", last_name="Quill", postcode="YO1 1AA")
    report = resolve_new(settings)
    assert report.new_records == 2 and report.probabilistic_merges == 1
    with session_scope(database_url, write=False) as session:
        assert session.get_one(Customer, store).merged_into_id == crm
        merge = session.scalars(
            select(IdentityMerge).where(IdentityMerge.absorbed_id == store)
        ).one()
    assert merge.rule == "probabilistic" and "match probability" in merge.reason
    assert [r.rule for r in list_reviews(database_url)] == ["probabilistic"]


def test_accounts_merge_on_registration_domain_and_name_but_intermediaries_stay_apart(
    database_url: str,
) -> None:
    with session_scope(database_url) as session:

        def account(src: str, key: str, name: str, **kw: str) -> int:
            a = Account(source=src, source_account_id=key, name=name, traits={}, **kw)
            session.add(a)
            session.flush()
            return a.id

        acme = account("erp", "A1", "ACME Ltd", registration_number="01234567", postcode="LS1 1AA")
        acme2 = account("crm", "X9", "Acme Limited", postcode="ls11aa", domain="www.acme.co.uk")
        acme3 = account("web", "w", "ACME", domain="https://acme.co.uk/about")
        other = account("crm", "X10", "Acme Holdings", registration_number="99999999")
        reseller = account("crm", "R1", "Acme Reseller", domain="acme.co.uk")
        session.add(
            AccountRelationship(account_id=reseller, related_account_id=acme, kind="reseller")
        )
        person = add_record(session, "crm", "p1", email="jo@acme.co.uk")
        session.add(AccountMember(customer_id=person, account_id=acme2, role="buyer"))
    report = resolve_new(Settings(database_url=database_url), probabilistic=False)
    assert report.account_merges == 2
    with session_scope(database_url, write=False) as session:
        merged = dict(session.execute(select(Account.id, Account.merged_into_id)).all())
        member = session.scalars(select(AccountMember.account_id)).one()
    assert merged[acme2] == acme and merged[acme3] == acme
    assert merged[other] is None and merged[reseller] is None and merged[acme] is None
    assert member == acme
