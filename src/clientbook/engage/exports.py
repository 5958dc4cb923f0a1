"""Contact lists for mailing and calling: segment members who consented, as CSV.

A member is left out when the consent ledger's current state for (purpose, channel) is not
``granted`` (no entry counts as no consent), or when the member has no address for the channel.
The report says how many were left out and why.
"""

from __future__ import annotations

import csv
from typing import TextIO

from pydantic import BaseModel

from clientbook.store.consent_ledger import check_purpose_channel
from clientbook.store.segments import CONTACT_COLUMNS, contact_list

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportReport(BaseModel):
    """What an export wrote and what it left out."""

    segment: str
    purpose: str
    channel: str
    members: int
    exported: int
    excluded_no_consent: int
    excluded_no_address: int


def _cell(value: object) -> str:
    """Plain text for a spreadsheet: a leading formula character is neutralised with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_segment_csv(
    url: str, name: str, out: TextIO, *, channel: str, purpose: str = "marketing"
) -> ExportReport:
    """Write the members of segment ``name`` who may be contacted on ``channel`` to ``out``."""
    check_purpose_channel(purpose, channel)
    rows = contact_list(url, name, purpose, channel)
    columns = CONTACT_COLUMNS.get(channel, ("email", "phone"))
    writer = csv.writer(out)
    writer.writerow(["customer_id", "first_name", "last_name", *columns])
    exported = no_consent = no_address = 0
    required = columns[0]
    for r in rows:
        if not r.consented:
            no_consent += 1
            continue
        if not r.contact.get(required):
            no_address += 1
            continue
        writer.writerow(
            [r.customer_id, _cell(r.first_name), _cell(r.last_name)]
            + [_cell(r.contact.get(c)) for c in columns]
        )
        exported += 1
    return ExportReport(
        segment=name,
        purpose=purpose,
        channel=channel,
        members=len(rows),
        exported=exported,
        excluded_no_consent=no_consent,
        excluded_no_address=no_address,
    )
