"""Identity resolution of N person records (default 1,000,000): Clientbook against Splink alone.

Makes synthetic people, each seen in 1-4 sources (CRM, store loyalty, web login, call centre)
with typos, missing fields and shared keys, loads them into a fresh SQLite store as the importers
do (one customer per record), then times:

* Clientbook: ``resolve_new`` (deterministic on shared identifiers, then Splink on new records,
  merges written and logged in the store);
* the peer: Splink alone, deduplicating the same records (train, predict, cluster) in DuckDB,
  without writing anything back.

Both are scored against the truth (pairwise precision and recall). Target: Clientbook under
10 minutes for 1,000,000 records on 2 cores.

    .venv/bin/python benchmarks/identity_resolution.py --records 1000000
"""

from __future__ import annotations

import argparse
import logging
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from clientbook.config import Settings
from clientbook.identity.matching import prepare_records, train
from clientbook.identity.quality import pairwise_quality, read_labels
from clientbook.identity.resolver import resolve_new
from clientbook.identity.service import export_records
from clientbook.store.db import migrate, session_scope
from clientbook.store.models.parties import Customer, Identifier, SourceRecord

_A = "al ber car dan el fran geo hen is jo ka lu mar nor ol pat qui ro sam ter".split()
_A += "ur vic wil xa yo zel bea cla dor eve gra hel ire jun kel lor mil nan opa pen".split()
_B = "a an ara bert da do el ella en ia ie ina io is la lie na o on ric ry sa ta to y".split()
_C = "ash brook burn by cliff dale den field ford gate ham hill hurst ley low mere more".split()
_C += "ridge shaw stead stone thorpe ton well wick wood worth".split()
#: 1,000 first names and 3,240 surnames, drawn with a skew (the commonest ~3 %)
FIRST_NAMES = [a + b for a in _A for b in _B]
LAST_NAMES = [a + b + c for a in _A[:30] for b in ("", "s", "n", "r") for c in _C]
STREETS = "high station church park victoria green manor mill school kings queens london".split()
CITIES = [f"town{i}" for i in range(400)]


def typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(len(text) - 1)
    kind = rng.random()
    if kind < 0.4:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind < 0.7:
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice("aeiourstnl") + text[i + 1 :]


def people(n_records: int, seed: int = 7) -> list[tuple[str, str, dict[str, Any], list[tuple]]]:
    """(source, record id, attributes, identifiers) for about ``n_records`` records."""
    rng = random.Random(seed)
    firsts, lasts = FIRST_NAMES, LAST_NAMES
    out: list[tuple[str, str, dict[str, Any], list[tuple]]] = []
    person = 0
    while len(out) < n_records:
        person += 1
        first = firsts[int(len(firsts) * rng.random() ** 2)]
        last = lasts[int(len(lasts) * rng.random() ** 2)]
        born = f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        city = rng.choice(CITIES)
        postcode = f"{city[4:].upper()}{rng.randint(1, 99)} {rng.randint(1, 9)}AB"
        street = f"{rng.randint(1, 200)} {rng.choice(STREETS)} street"
        email = f"{first}.{last}{person}@mail{person % 7}.example"
        phone = f"07{rng.randint(100000000, 999999999)}"
        sources = rng.sample(["crm", "shop", "web", "call"], k=rng.choice([1, 1, 2, 2, 3, 4]))
        for source in sources:
            if len(out) >= n_records:
                break
            attrs: dict[str, Any] = {"first_name": first, "last_name": last}
            ids: list[tuple] = []
            if rng.random() < 0.15:
                attrs["first_name"] = typo(rng, first)
            if rng.random() < 0.10:
                attrs["last_name"] = typo(rng, last)
            if source in ("crm", "shop"):
                attrs |= {"birth_date": born, "street": street, "city": city}
                attrs["postcode"] = postcode
                if rng.random() < 0.7:
                    attrs["email"] = email
                    ids.append(("email", email))
            if source == "shop":
                ids.append(("loyalty_card", f"LC{person:08d}"))
            if source == "web":
                ids += [("user_id", f"u{person}"), ("email", email)]
                attrs["email"] = email
            if source in ("call", "crm") and rng.random() < 0.8:
                attrs["phone"] = phone
                ids.append(("phone", "+44" + phone[1:]))
            if source == "call":
                attrs |= {"city": city, "birth_date": born if rng.random() < 0.5 else None}
            out.append((source, f"{source}-{person}", attrs, ids))
    return out


def load(url: str, records: list[tuple[str, str, dict[str, Any], list[tuple]]]) -> None:
    """Write the records as the importer does: one customer each, identifiers attached."""
    with session_scope(url) as session:
        for start in range(0, len(records), 50_000):
            chunk = records[start : start + 50_000]
            session.execute(
                insert(Customer),
                [
                    {"id": start + i + 1, "first_name": a["first_name"], "traits": {}}
                    | {"last_name": a["last_name"]}
                    for i, (_, _, a, _) in enumerate(chunk)
                ],
            )
            session.execute(
                insert(SourceRecord),
                [
                    {"source": s, "source_record_id": r, "customer_id": start + i + 1}
                    | {"attributes": {k: v for k, v in a.items() if v}}
                    for i, (s, r, a, _) in enumerate(chunk)
                ],
            )
            session.execute(
                insert(Identifier),
                [
                    {"customer_id": start + i + 1, "type": t, "value": v, "source": s}
                    for i, (s, r, _, ids) in enumerate(chunk)
                    for t, v in [*ids, ("source_record", f"{s}:{r}")]
                ],
            )


def splink_alone(records: list[tuple[str, str, dict[str, Any], list[tuple]]]) -> dict[str, int]:
    """The peer: Splink's own dedupe and clustering over every record, from scratch."""
    from splink import Linker

    from clientbook.identity.matching import _db_api

    frame = prepare_records((i, a) for i, (_, _, a, _) in enumerate(records))
    model = train(frame)
    linker = Linker(_db_api().register(frame), model, log_level=logging.WARNING)
    pairs = linker.inference.predict(threshold_match_probability=0.99)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.99)
    table = clusters.as_pandas_dataframe()
    return {
        f"{records[i][0]}|{records[i][1]}": str(c)
        for i, c in zip(table["unique_id"], table["cluster_id"], strict=True)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    records = people(args.records)
    truth = {(s, r): r.split("-")[1] for s, r, _, _ in records}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate(url)
        t0 = time.perf_counter()
        load(url, records)
        print(f"loaded {len(records):,} records in {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        report = resolve_new(Settings(database_url=url))
        ours = time.perf_counter() - t0
        out = Path(folder) / "export.csv"
        export_records(url, out)
        quality = pairwise_quality(read_labels(out, "customer_id"), truth)
        print(
            f"Clientbook resolve: {ours:.0f} s ({report.seconds}); "
            f"{report.deterministic_merges:,} deterministic + {report.probabilistic_merges:,} "
            f"probabilistic merges, {report.review_pairs:,} to review; precision "
            f"{quality.precision:.4f}, recall {quality.recall:.4f}"
        )
    if args.skip_peer:
        return
    t0 = time.perf_counter()
    labels = splink_alone(records)
    peer = time.perf_counter() - t0
    peer_quality = pairwise_quality({tuple(k.split("|")): v for k, v in labels.items()}, truth)
    print(
        f"Splink alone (dedupe + cluster, nothing written): {peer:.0f} s; precision "
        f"{peer_quality.precision:.4f}, recall {peer_quality.recall:.4f}"
    )
    print(f"ratio Clientbook / Splink alone: {ours / peer:.2f}")


if __name__ == "__main__":
    main()
