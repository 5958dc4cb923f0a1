"""``/api/customers``: the customer 360 and look-up by any identifier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clientbook.errors import NotFound, UsageError
from clientbook.identity.identifiers import normalise
from clientbook.serve.api.deps import SettingsDep, TokenDep
from clientbook.store.customer360 import Customer360, customer_360, find_customer_ids

router = APIRouter(prefix="/api/customers", tags=["customers"])


@router.get("/{customer_id}", response_model=Customer360)
def get_customer(customer_id: int, settings: SettingsDep, _token: TokenDep) -> Customer360:
    """One customer: traits, identifiers, accounts, orders, latest interactions, cases, consents."""
    return customer_360(settings.database_url, customer_id)


@router.get("", response_model=list[Customer360])
def find_customers(
    settings: SettingsDep,
    _token: TokenDep,
    identifier: Annotated[str, Query(description="TYPE:VALUE, e.g. email:ann@example.com")],
) -> list[Customer360]:
    """Customers holding an identifier (normally one)."""
    type_, sep, value = identifier.partition(":")
    if not sep or not value:
        raise UsageError("identifier must be TYPE:VALUE, e.g. email:ann@example.com.")
    normalised = normalise(type_, value, settings.default_region)
    if normalised is None:
        raise UsageError(f"{value!r} is not a valid {type_}.")
    ids = find_customer_ids(settings.database_url, type_, normalised)
    if not ids:
        raise NotFound(f"No customer has the identifier {type_}:{value}.")
    return [customer_360(settings.database_url, i) for i in ids]
