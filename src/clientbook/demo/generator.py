"""A realistic retailer, drawn from a documented stochastic model with a seed.

The model (all draws from one ``numpy.random.Generator(seed)``):

* **People.** ``people`` persons with a gender, a name, birth date, address, mobile phone and
  e-mail; 55% register in the web shop, 50% join the store loyalty programme, 20% call the call
  centre (everyone has at least one of these), and ``accounts`` B2B accounts have one or two
  contact persons each. Names are drawn with Zipf-like weights ``1/(rank + 8)`` from 98 female
  and 102 male first names and ``1/(rank + 6)`` from 281 surnames, commonest first, so that
  namesakes exist as in life. 30% of people join an earlier person's household: same address,
  the same surname (75%), the household's phone (20%) or family mailbox (15%). 10% moved house
  (the loyalty desk still has the old address), 15% have a second e-mail (work), 5% changed
  their phone number (the loyalty desk has the old one).
* **Sources.** Each source types the person in its own way. The web shop ships goods: it holds
  the current delivery address (streets sometimes abbreviated, postcodes in any case and
  spacing), an e-mail (10% in capitals), a phone for the courier (70%, typed nationally,
  internationally or as bare digits) and a birth date (30%). The loyalty desk makes typos in
  names (one letter swapped or dropped in 15% of names of four letters or more), signs members
  up with an e-mail (60%; half of those with a second mailbox give that one) or a phone (always
  when no e-mail, else 50%), a postcode, the full address (70%) and a birth date (80%). The
  call centre knows a phone and a postcode, and misspells first names like the desk.
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

#: First names by gender and surnames, commonest first; drawn with Zipf-like weights (below), so
#: that namesakes exist as in life (a "Smith" in every street, a few "James Smith"s in a city).
FEMALE = (
    "Olivia Emily Sophie Jessica Amelia Lucy Charlotte Hannah Grace Chloe Emma Sarah Laura Rebecca "
    "Ellie Megan Amy Lauren Katie Holly Mia Isabella Ruby Lily Ella Evie Poppy Freya Alice Daisy "
    "Jasmine Anna Rachel Helen Claire Karen Susan Julie Alison Nicola Louise Joanne Victoria "
    "Elizabeth Margaret Mary Patricia Jennifer Linda Barbara Deborah Angela Carol Tracey Dawn "
    "Caroline Catherine Fiona Gemma Natalie Kelly Zoe Abigail Eleanor Harriet Imogen Isla Matilda "
    "Phoebe Rosie Scarlett Florence Maisie Esme Erin Heidi Aisha Fatima Maryam Priya Anita Sofia "
    "Eva Ivy Willow Aria Luna Iris Beatrice Clara Edith Hazel Violet Nora Ada Pia Ines Greta"
).split()
MALE = (
    "Oliver Jack Harry George James William Thomas Charlie Joshua Daniel Samuel Joseph Benjamin "
    "Alexander Matthew Luke Ryan Adam Jake Lewis Callum Liam Noah Ethan Mason Leo Oscar Alfie "
    "Henry Theo Arthur Freddie Archie Max Isaac Lucas Edward Finley Logan David John Michael Paul "
    "Mark Andrew Richard Stephen Peter Robert Christopher Simon Anthony Kevin Ian Gary Neil Martin "
    "Jason Craig Darren Lee Stuart Graham Philip Nigel Colin Keith Brian Alan Dominic Patrick "
    "Sebastian Hugo Rory Felix Jacob Tyler Dylan Kieran Mohammed Ali Omar Hassan Arjun Rohan "
    "Raj Ravi Tomasz Piotr Marek Luca Marco Jonas Nils Erik Karl Emil Ivan Yusuf Zain Elliot Toby"
).split()
LAST = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen "
    "James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook "
    "Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson "
    "Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali "
    "Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell "
    "Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur "
    "Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks "
    "West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose "
    "Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett "
    "Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid "
    "Holland Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner "
    "Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd "
    "Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson "
    "Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill "
    "Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan "
    "Hutchinson Rowe Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson Stephenson "
    "Hammond Arnold Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan Whitehouse "
    "Randall Lambert Kowalski Nowak Wisniewski Rossi Ferrari Schmidt Muller Fischer Novak Dubois "
    "Moreau Garcia Martinez Lopez Fernandes Silva Costa Nguyen Chen Wang Li Zhang Kim Okafor "
    "Mensah Adeyemi Osei Abara Chaudhry Iqbal Malik Mahmood Rahman Sharma Gupta Mistry Desai"
).split()
STREET_NAMES = (
    "High Station Church Park Victoria Green Manor Mill School Kings Queens London Main North "
    "South West East New Chapel Albert Alexandra Grove Springfield Windsor Orchard Meadow Oak "
    "Elm Ash Willow Beech Cedar Richmond Stanley Clarence Cromwell Nelson Grange Highfield "
    "Kingsway Broadway Sandy Brook Mount Hillside Westfield Fairfield Marlborough York Derby"
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
    previous: tuple[str, str, str] | None  # the address before a move, if they moved
    other_email: str | None  # a second mailbox (work, an old provider), for some
    old_phone: str | None  # the number before a change, for some
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


def _zipf(n: int, offset: float) -> np.ndarray:
    """Weights 1/(rank + offset), normalised: a few common values and a long tail."""
    w = 1.0 / (np.arange(n) + offset)
    return np.asarray(w / w.sum())


_FEMALE_P, _MALE_P, _LAST_P = _zipf(len(FEMALE), 8), _zipf(len(MALE), 8), _zipf(len(LAST), 6)


def _address(rng: np.random.Generator) -> tuple[str, str, str]:
    city, area = CITIES[int(rng.integers(len(CITIES)))]
    street = f"{int(rng.integers(1, 200))} {rng.choice(STREET_NAMES)} {rng.choice(STREETS)}"
    postcode = f"{area}{int(rng.integers(1, 30))} {int(rng.integers(1, 10))}" + "".join(
        rng.choice(list(POSTCODE_LETTERS), 2)
    )
    return street, city, postcode


def _people(rng: np.random.Generator, n: int) -> list[Person]:
    people: list[Person] = []
    for i in range(n):
        # 30% join an earlier person's household: same address, often the same surname,
        # sometimes the family's phone or mailbox
        head = people[int(rng.integers(len(people)))] if people and rng.random() < 0.3 else None
        gender = str(rng.choice(("female", "male"), p=(0.52, 0.48)))
        names, weights = (FEMALE, _FEMALE_P) if gender == "female" else (MALE, _MALE_P)
        first = names[int(rng.choice(len(names), p=weights))]
        last = LAST[int(rng.choice(len(LAST), p=_LAST_P))]
        if head is not None and rng.random() < 0.75:
            last = head.last
        street, city, postcode = (
            (head.street, head.city, head.postcode) if head is not None else _address(rng)
        )
        mobile = f"07{rng.choice(list('45789'))}{int(rng.integers(0, 100)):02d} " + (
            f"{int(rng.integers(0, 1_000_000)):06d}"
        )
        handle = "".join(ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == ".")
        email = f"{handle}{i + 1}@{rng.choice(MAIL_DOMAINS)}"
        if head is not None and rng.random() < 0.2:
            mobile = head.phone  # the household's one phone
        if head is not None and rng.random() < 0.15:
            email = head.email  # the family mailbox
        mix = rng.dirichlet((2.0, 2.0, 0.6))
        people.append(
            Person(
                id=i + 1,
                first=first,
                last=last,
                birth=date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 52))),
                gender=gender,
                street=street,
                city=city,
                postcode=postcode,
                phone=mobile,
                email=email,
                previous=_address(rng) if rng.random() < 0.1 else None,
                other_email=f"{handle[0]}{handle.split('.')[-1]}{i + 1}@work.example.com"
                if rng.random() < 0.15
                else None,
                old_phone=f"07700 9{int(rng.integers(0, 100_000)):05d}"
                if rng.random() < 0.05
                else None,
                lam=float(rng.gamma(0.9, 1 / 45)),
                p=float(rng.beta(0.7, 4.0)),
                nu=float(rng.gamma(4.0, 1 / 60.0)),
                mix=mix,
                channel_pref="online" if mix[0] >= mix[1] + mix[2] else "offline",
                style_pref=str(rng.choice(("rational", "emotional"))),
            )
        )
    return people


def _typed_phone(rng: np.random.Generator, phone: str) -> str:
    """As people type a number: national with a space, international, or digits only."""
    r = rng.random()
    if r < 0.45:
        return phone
    if r < 0.75:
        return "+44 " + phone[1:]
    return phone.replace(" ", "")


def _typed_street(rng: np.random.Generator, street: str) -> str:
    if rng.random() < 0.3:
        return street.replace(" Road", " Rd").replace(" Street", " St").replace(" Lane", " Ln")
    return street


def _typed_postcode(rng: np.random.Generator, postcode: str) -> str:
    r = rng.random()
    return postcode.lower() if r < 0.15 else postcode.replace(" ", "") if r < 0.3 else postcode


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
                # a shop that ships goods holds a delivery address (the current one), usually
                # a phone for the courier, and a birth date when the customer chose to give it
                w.add(
                    "customers_webshop",
                    {
                        "customer_id": rid,
                        "first_name": person.first,
                        "last_name": person.last,
                        "email": person.email if rng.random() > 0.1 else person.email.upper(),
                        "phone": _typed_phone(rng, person.phone) if rng.random() < 0.7 else "",
                        "birth_date": person.birth.isoformat() if rng.random() < 0.3 else "",
                        "street": _typed_street(rng, person.street),
                        "city": person.city,
                        "postcode": _typed_postcode(rng, person.postcode),
                        "user_id": f"u{person.id}",
                        "anonymous_id": f"anon-{person.id:06d}",
                        "country": "GB",
                    },
                )
            elif source == "loyalty":
                # signed up at the desk with an e-mail or a phone (or both) and a postcode;
                # the address is the one at sign-up (before a move, for those who moved)
                street, city, postcode = person.previous or (
                    person.street,
                    person.city,
                    person.postcode,
                )
                has_email = rng.random() < 0.6
                has_phone = not has_email or rng.random() < 0.5
                email = person.email
                if person.other_email and rng.random() < 0.5:
                    email = person.other_email
                full_address = rng.random() < 0.7
                w.add(
                    "customers_loyalty",
                    {
                        "customer_id": rid,
                        "first_name": _typo(rng, person.first),
                        "last_name": _typo(rng, person.last),
                        "email": email if has_email else "",
                        "phone": (person.old_phone or person.phone) if has_phone else "",
                        "birth_date": person.birth.isoformat() if rng.random() < 0.8 else "",
                        "gender": person.gender[0].upper(),
                        "street": street if full_address else "",
                        "city": city if full_address else "",
                        "postcode": postcode,
                        "country": "GB",
                        "loyalty_card": f"77{person.id:08d}",
                    },
                )
            else:
                w.add(
                    "customers_callcentre",
                    {
                        "customer_id": rid,
                        "first_name": _typo(rng, person.first),
                        "last_name": person.last,
                        "phone": _typed_phone(rng, person.phone),
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
            for page in range(int(rng.integers(1, 4))):
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
            first, last = str(rng.choice(FEMALE + MALE)), str(rng.choice(LAST))
            w.add(
                "customers_b2b",
                {
                    "customer_id": rid,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{first}.{last}@company{a}.example.com".lower().replace("'", ""),
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
