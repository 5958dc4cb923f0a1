"""A realistic retailer, drawn from a documented stochastic model with a seed.

The model (all draws from one ``numpy.random.Generator(seed)``):

* **People.** ``people`` persons with a name, birth date, gender, address and phone; 55% register
  in the web shop, 50% join the store loyalty programme, 20% call the call centre (everyone has
  at least one of these), and ``accounts`` B2B accounts have one or two contact persons each.
  Each source types the person in its own way: the loyalty desk makes typos in names (2% of
  letters' positions swapped or dropped in 15% of records), writes phones nationally, and
  records e-mail for half the members; the call centre knows the phone and a postcode.
* **Buying (BG/NBD).** Each person has a purchase rate ``lambda ~ Gamma(r=0.9, 1/alpha=1/45)``
  per day and a dropout probability after each purchase ``p ~ Beta(a=0.7, b=4)``; purchases
  start at an acquisition day uniform over the first 18 months of the two-year window. Spend per
  order follows Gamma-Gamma (``nu ~ Gamma(q=4, gamma=60)``, order value ``~ Gamma(p=5, nu)``).
  The channel of an order follows the person's channel mix (web, store, phone order through the
  call centre); store orders are in one of 20 stores.
* **Contacts.** Every web order comes with a visit of several page views (with referrers, search
  terms and UTM campaigns); store orders are store visits; call-centre customers call (inbound,
  with duration, outcome, agent and notes). Campaigns go out by e-mail and direct mail in a
  rational or emotional style; the response probability depends on the person's true preferred
  channel and style. 3% of orders lead to a complaint case.
* **Permissions and likes.** Consent to e-mail/direct-mail marketing (some later withdrawn);
  declared size and favourite brand for a quarter of the loyalty members.

The ground truth is written beside the data: ``truth.csv`` (source, source_record_id,
person_id) and ``people.csv`` (each person's true lambda, p, channel and style preference).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

FIRST = (
    "Ann Ben Cara Dev Ella Finn Gwen Hugo Iris Jack Kate Liam Maya Noah Olga Paul Quinn Rosa Sam "
    "Tara Umar Vera Will Xena Yusuf Zoe Adam Bella Carl Dina Eric Faye Gary Hana Ivan Jade Karl "
    "Lena Marc Nina Omar Pia Raj Sara Tom Una Vic Wendy Alan Beth Chris Dora Emil Flora George "
    "Holly Isaac June Kevin Laura Mike Nora Oscar Penny Rita Simon Tina Victor Amy Bruno Chloe "
    "Daniel Eva Felix Grace Henry Ines Jonas Kira Luca Mila Nils Ola Petra Ralf Sofia Theo Ulla"
).split()
LAST = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker "
    "White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell "
    "Rose Davis Rodriguez Cox Alexander Morgan Moore Martin Price Lee Bell Shaw Bennett Young "
    "Harris Carter Baker Turner Parker Collins Edwards Hill Cooper Ward Morris King Watson Scott "
    "Allen Hughes Ahmed Singh Murphy Kelly Hussain Adams Campbell Anderson Stewart Fisher Grant "
    "Hunt Knight Lloyd Marshall Owen Palmer Reid Russell Spencer Stone Wells Webb Ellis Fox Gray "
    "Holmes Hudson Jenkins Lane Mills Nash Pearce Quinn Rees Saunders Tucker Vaughan Weston"
).split()
CITIES = (
    ("Leeds", "LS"),
    ("York", "YO"),
    ("Bristol", "BS"),
    ("Leicester", "LE"),
    ("Norwich", "NR"),
    ("Cardiff", "CF"),
    ("Bath", "BA"),
    ("Derby", "DE"),
)
CATEGORIES = {  # category: (price range, margin rate)
    "shoes": ((40, 140), 0.45),
    "outerwear": ((60, 250), 0.5),
    "knitwear": ((30, 110), 0.55),
    "denim": ((35, 120), 0.5),
    "accessories": ((10, 60), 0.6),
    "sportswear": ((20, 90), 0.4),
    "home": ((15, 80), 0.35),
    "beauty": ((8, 45), 0.55),
}
BRANDS = ("Northwind", "Aster", "Fjord", "Kestrel", "Lumen", "Marlow")
COLOURS = ("black", "navy", "grey", "red", "green", "white")
SIZES = ("XS", "S", "M", "L", "XL")
INDUSTRIES = ("hospitality", "retail", "education", "healthcare", "construction", "logistics")
REFERRERS = (
    ("https://www.google.com/search?q={q}", "search"),
    ("https://www.bing.com/search?q={q}", "search"),
    ("https://blog.example.net/best-{q}", "referral"),
    ("", "direct"),
    ("https://news.example.org/", "banner"),
)
STREETS = ("Road", "Street", "Lane")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
MAIL_DOMAINS = ("example.com", "example.org", "example.net")
COMPANY_SUFFIXES = ("Ltd", "Group", "Trading", "Services")
START = datetime(2024, 11, 1, tzinfo=UTC)
DAYS = 730


@dataclass
class Person:
    id: int
    first: str
    last: str
    birth: date
    gender: str
    street: str
    city: str
    postcode: str
    phone: str
    email: str
    lam: float
    p: float
    nu: float
    mix: np.ndarray  # web, store, phone
    channel_pref: str
    style_pref: str


class _Writer:
    """CSV files of the canonical import formats, one per (kind, source)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def add(self, name: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(name, []).append(row)

    def close(self) -> dict[str, int]:
        self.out.mkdir(parents=True, exist_ok=True)
        for name, rows in self.rows.items():
            fields = list(dict.fromkeys(k for r in rows for k in r))
            with (self.out / f"{name}.csv").open("w", newline="") as f:
                writer = csv.DictWriter(f, fields)
                writer.writeheader()
                writer.writerows(rows)
        return {name: len(rows) for name, rows in self.rows.items()}


def _typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 4 or rng.random() > 0.15:
        return word
    i = int(rng.integers(1, len(word) - 1))
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i + 1 :]


def _people(rng: np.random.Generator, n: int) -> list[Person]:
    people = []
    for i in range(n):
        first, last = str(rng.choice(FIRST)), str(rng.choice(LAST))
        city, area = CITIES[int(rng.integers(len(CITIES)))]
        mix = rng.dirichlet((2.0, 2.0, 0.6))
        people.append(
            Person(
                id=i + 1,
                first=first,
                last=last,
                birth=date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 52))),
                gender=str(rng.choice(("female", "male"), p=(0.52, 0.48))),
                street=f"{int(rng.integers(1, 200))} {rng.choice(LAST)} {rng.choice(STREETS)}",
                city=city,
                postcode=f"{area}{int(rng.integers(1, 30))} {int(rng.integers(1, 9))}"
                + "".join(rng.choice(list(POSTCODE_LETTERS), 2)),
                phone=f"07700 9{int(rng.integers(0, 100000)):05d}",
                email=f"{first.lower()}.{last.lower()}{i + 1}@{rng.choice(MAIL_DOMAINS)}",
                lam=float(rng.gamma(0.9, 1 / 45)),
                p=float(rng.beta(0.7, 4.0)),
                nu=float(rng.gamma(4.0, 1 / 60.0)),
                mix=mix,
                channel_pref="online" if mix[0] >= mix[1] + mix[2] else "offline",
                style_pref=str(rng.choice(("rational", "emotional"))),
            )
        )
    return people


def _purchase_days(rng: np.random.Generator, person: Person) -> list[float]:
    day = float(rng.uniform(0, DAYS * 0.75))
    days = [day]
    while True:
        if rng.random() < person.p:
            break
        day += float(rng.exponential(1 / person.lam))
        if day >= DAYS:
            break
        days.append(day)
    return days


def generate(
    out: Path, *, seed: int = 7, people: int = 10_000, accounts: int = 300
) -> dict[str, int]:
    """Write the demo retailer's import files and ground truth to ``out``; return row counts."""
    rng = np.random.default_rng(seed)
    w = _Writer(out)
    catalogue = []
    for n in range(240):
        category = str(rng.choice(list(CATEGORIES)))
        (low, high), margin = CATEGORIES[category]
        price = round(float(rng.uniform(low, high)), 2)
        sku = f"SKU{n + 1:04d}"
        brand = str(rng.choice(BRANDS))
        catalogue.append((sku, category, brand, price, margin))
        colour = str(rng.choice(COLOURS))
        w.add(
            "products",
            {
                "product_id": sku,
                "name": f"{brand} {colour} {category} {n + 1}",
                "category": category,
                "brand": brand,
                "price": price,
            },
        )
    folks = _people(rng, people)
    records: dict[tuple[int, str], str] = {}
    for person in folks:
        w.add(
            "people",
            {
                "person_id": person.id,
                "lambda": round(person.lam, 6),
                "p": round(person.p, 6),
                "nu": round(person.nu, 6),
                "channel_preference": person.channel_pref,
                "style_preference": person.style_pref,
            },
        )
        sources = [
            s
            for s, share in (("webshop", 0.55), ("loyalty", 0.5), ("callcentre", 0.2))
            if rng.random() < share
        ]
        if not sources:
            sources = ["webshop" if person.mix[0] > person.mix[1] else "loyalty"]
        for source in sources:
            rid = f"{source[0].upper()}{person.id:06d}"
            records[(person.id, source)] = rid
            w.add("truth", {"source": source, "source_record_id": rid, "person_id": person.id})
            if source == "webshop":
                w.add(
                    "customers_webshop",
                    {
                        "customer_id": rid,
                        "first_name": person.first,
                        "last_name": person.last,
                        "email": person.email if rng.random() > 0.1 else person.email.upper(),
                        "user_id": f"u{person.id}",
                        "anonymous_id": f"anon-{person.id:06d}",
                        "country": "GB",
                    },
                )
            elif source == "loyalty":
                w.add(
                    "customers_loyalty",
                    {
                        "customer_id": rid,
                        "first_name": _typo(rng, person.first),
                        "last_name": _typo(rng, person.last),
                        "email": person.email if rng.random() < 0.5 else "",
                        "phone": person.phone,
                        "birth_date": person.birth.isoformat(),
                        "gender": person.gender[0].upper(),
                        "street": person.street,
                        "city": person.city,
                        "postcode": person.postcode,
                        "country": "GB",
                        "loyalty_card": f"77{person.id:08d}",
                    },
                )
            else:
                phone = "+44 " + person.phone[1:] if rng.random() < 0.5 else person.phone
                w.add(
                    "customers_callcentre",
                    {
                        "customer_id": rid,
                        "first_name": _typo(rng, person.first),
                        "last_name": person.last,
                        "phone": phone,
                        "postcode": person.postcode.replace(" ", ""),
                    },
                )
        _activity(rng, w, person, records, catalogue)
    _b2b(rng, w, accounts, catalogue)
    return w.close()


def _activity(
    rng: np.random.Generator,
    w: _Writer,
    person: Person,
    records: dict[tuple[int, str], str],
    catalogue: list[tuple[str, str, str, float, float]],
) -> None:
    web = records.get((person.id, "webshop"))
    store = records.get((person.id, "loyalty"))
    call = records.get((person.id, "callcentre"))
    channels = [
        (c, m)
        for c, m, ok in zip(("web", "store", "phone"), person.mix, (web, store, call), strict=True)
        if ok
    ]
    names, weights = zip(*channels, strict=True)
    probs = np.array(weights) / sum(weights)
    favourite = catalogue[int(rng.integers(len(catalogue)))][1]
    for n, day in enumerate(_purchase_days(rng, person)):
        channel = str(rng.choice(names, p=probs))
        when = START + timedelta(days=day, hours=float(rng.uniform(9, 20)))
        value = float(rng.gamma(5.0, 1 / person.nu)) if person.nu > 0 else 20.0
        lines = int(rng.integers(1, 4))
        order_id = f"{channel[0].upper()}{person.id:06d}-{n}"
        source, rid = {
            "web": ("webshop", web),
            "store": ("loyalty", store),
            "phone": ("callcentre", call),
        }[channel]
        for _line in range(lines):
            choice = (
                [c for c in catalogue if c[1] == favourite] if rng.random() < 0.6 else catalogue
            )
            sku, _category, brand, _price, margin = choice[int(rng.integers(len(choice)))]
            revenue = round(max(value / lines, 2.0), 2)
            w.add(
                f"orders_{source}",
                {
                    "order_id": order_id,
                    "customer_id": rid,
                    "ordered_at": when.isoformat(),
                    "revenue": revenue,
                    "cost": round(revenue * (1 - margin), 2),
                    "quantity": 1,
                    "currency": "GBP",
                    "channel": {"phone": "call_centre"}.get(channel, channel),
                    "location": f"store-{person.id % 20 + 1:02d}" if channel == "store" else "",
                    "brand": brand,
                    "product_id": sku,
                },
            )
        if channel == "web":
            referrer, kind = REFERRERS[int(rng.integers(len(REFERRERS)))]
            q = favourite
            for page in range(int(rng.integers(2, 6))):
                path = "/" if page == 0 else f"/c/{favourite}" if page == 1 else f"/p/{page}"
                props: dict[str, Any] = {
                    "url": f"https://shop.example.com{path}",
                    "path": path,
                    "referrer": referrer.format(q=q) if page == 0 else "",
                    "anonymous_id": f"anon-{person.id:06d}",
                }
                if page == 0 and kind == "search":
                    props["search_terms"] = q
                if page == 0 and kind == "banner":
                    props["campaign"] = {"source": "news", "medium": "banner", "name": "spring"}
                w.add(
                    "interactions_webshop",
                    {
                        "interaction_id": f"{order_id}-pv{page}",
                        "customer_id": web,
                        "occurred_at": (when - timedelta(minutes=10 - 2 * page)).isoformat(),
                        "channel": "web",
                        "type": "page",
                        "properties": json.dumps(props),
                    },
                )
        elif channel == "store":
            w.add(
                "interactions_loyalty",
                {
                    "interaction_id": f"{order_id}-visit",
                    "customer_id": store,
                    "occurred_at": when.isoformat(),
                    "channel": "store",
                    "type": "visit",
                    "location": f"store-{person.id % 20 + 1:02d}",
                    "outcome": "purchase",
                },
            )
        if rng.random() < 0.03:
            opened = when + timedelta(days=float(rng.uniform(1, 10)))
            resolved = opened + timedelta(days=float(rng.uniform(0.5, 20)))
            done = resolved < START + timedelta(days=DAYS - 5)
            w.add(
                f"cases_{source}",
                {
                    "case_id": f"K-{order_id}",
                    "customer_id": rid,
                    "category": str(
                        rng.choice(("late delivery", "damaged item", "billing error", "wrong size"))
                    ),
                    "status": "resolved" if done else "open",
                    "channel": "call_centre",
                    "opened_at": opened.isoformat(),
                    "resolved_at": resolved.isoformat() if done else "",
                    "resolution": "refund issued" if done else "",
                },
            )
    if call:
        for k in range(int(rng.poisson(2))):
            when = START + timedelta(days=float(rng.uniform(0, DAYS)), hours=10)
            w.add(
                "interactions_callcentre",
                {
                    "interaction_id": f"call-{person.id}-{k}",
                    "customer_id": call,
                    "occurred_at": when.isoformat(),
                    "channel": "call_centre",
                    "direction": "inbound",
                    "type": "call",
                    "duration_seconds": int(rng.gamma(2, 150)),
                    "outcome": str(rng.choice(("answered", "resolved", "callback"))),
                    "agent": f"agent-{int(rng.integers(1, 15)):02d}",
                    "notes": str(
                        rng.choice(
                            (
                                "asked about delivery",
                                "size exchange",
                                "loyalty points question",
                                "address change",
                            )
                        )
                    ),
                },
            )
    _campaigns(
        rng,
        w,
        person,
        web or store or call,
        "webshop" if web else "loyalty" if store else "callcentre",
    )
    if store and rng.random() < 0.25:
        w.add(
            "preferences_loyalty",
            {
                "customer_id": store,
                "key": "size",
                "value": str(rng.choice(SIZES)),
                "source": "declared",
                "origin": "loyalty sign-up form",
                "learned_at": (START + timedelta(days=30)).isoformat(),
            },
        )


def _campaigns(
    rng: np.random.Generator, w: _Writer, person: Person, rid: str | None, source: str
) -> None:
    if rid is None:
        return
    email_ok = rng.random() < 0.7
    w.add(
        f"consents_{source}",
        {
            "customer_id": rid,
            "purpose": "marketing",
            "channel": "email",
            "status": "granted" if email_ok else "withdrawn",
            "recorded_at": START.isoformat(),
        },
    )
    w.add(
        f"consents_{source}",
        {
            "customer_id": rid,
            "purpose": "marketing",
            "channel": "direct_mail",
            "status": "granted",
            "recorded_at": START.isoformat(),
        },
    )
    if email_ok and rng.random() < 0.08:
        w.add(
            f"consents_{source}",
            {
                "customer_id": rid,
                "purpose": "marketing",
                "channel": "email",
                "status": "withdrawn",
                "recorded_at": (START + timedelta(days=400)).isoformat(),
            },
        )
    for k, (campaign, channel, style) in enumerate(
        (
            ("spring", "email", "rational"),
            ("summer", "direct_mail", "emotional"),
            ("autumn", "email", "emotional"),
            ("winter", "direct_mail", "rational"),
        )
    ):
        base = 0.10
        base *= 2.0 if (channel == "email") == (person.channel_pref == "online") else 0.6
        base *= 1.8 if style == person.style_pref else 0.7
        outcome = (
            "responded"
            if rng.random() < base
            else "opened"
            if rng.random() < 0.3
            else "no_response"
        )
        when = START + timedelta(days=90 + 150 * k)
        w.add(
            f"interactions_{source}",
            {
                "interaction_id": f"{campaign}-{rid}",
                "customer_id": rid,
                "occurred_at": when.isoformat(),
                "channel": channel,
                "direction": "outbound",
                "type": "campaign",
                "outcome": outcome,
                "campaign": campaign,
                "style": style,
            },
        )


def _b2b(
    rng: np.random.Generator,
    w: _Writer,
    n: int,
    catalogue: list[tuple[str, str, str, float, float]],
) -> None:
    partners = max(n // 20, 2)
    for a in range(1, n + 1):
        partner = a <= partners
        w.add(
            "accounts_b2b",
            {
                "account_id": f"A{a:04d}",
                "name": f"{rng.choice(LAST)} {rng.choice(COMPANY_SUFFIXES)} {a}",
                "industry": str(rng.choice(INDUSTRIES)),
                "employees": int(rng.lognormal(3.5, 1.2)) + 1,
                "domain": f"company{a}.example.com",
                "registration_number": f"GB{10000000 + a}",
                "city": CITIES[a % len(CITIES)][0],
                "country": "GB",
                "related_account_id": ""
                if partner
                else f"A{int(rng.integers(1, partners + 1)):04d}",
                "relationship": "" if partner else "customer_of",
            },
        )
        if partner:
            continue
        for c in range(int(rng.integers(1, 3))):
            rid = f"B{a:04d}-{c}"
            w.add(
                "truth",
                {"source": "b2b", "source_record_id": rid, "person_id": 1_000_000 + 10 * a + c},
            )
            first, last = str(rng.choice(FIRST)), str(rng.choice(LAST))
            w.add(
                "customers_b2b",
                {
                    "customer_id": rid,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{first.lower()}.{last.lower()}@company{a}.example.com",
                    "account_id": f"A{a:04d}",
                    "account_role": "buyer" if c == 0 else "contact",
                },
            )
            for k in range(int(rng.poisson(6))):
                sku, _cat, brand, price, margin = catalogue[int(rng.integers(len(catalogue)))]
                qty = int(rng.integers(5, 50))
                when = START + timedelta(days=float(rng.uniform(0, DAYS)))
                w.add(
                    "orders_b2b",
                    {
                        "order_id": f"PO-{rid}-{k}",
                        "customer_id": rid,
                        "ordered_at": when.isoformat(),
                        "revenue": round(price * qty * 0.8, 2),
                        "cost": round(price * qty * (1 - margin), 2),
                        "quantity": qty,
                        "currency": "GBP",
                        "channel": "phone",
                        "brand": brand,
                        "product_id": sku,
                    },
                )


#: Import order: (file stem, kind, source, customer source).
LOAD_PLAN = (
    ("products", "products", "catalogue", None),
    ("customers_webshop", "customers", "webshop", None),
    ("customers_loyalty", "customers", "loyalty", None),
    ("customers_callcentre", "customers", "callcentre", None),
    ("accounts_b2b", "accounts", "b2b", None),
    ("customers_b2b", "customers", "b2b", None),
    *(
        (f"{kind}_{source}", kind, source, None)
        for kind in ("orders", "interactions", "cases", "consents", "preferences")
        for source in ("webshop", "loyalty", "callcentre", "b2b")
    ),
)
