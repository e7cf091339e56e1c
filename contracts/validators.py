"""Field validators (Django ``ValidationError``) reused by models, forms and the API."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import holidays
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "SEK", "NOK", "DKK", "NZD"]


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _zones():
        raise ValidationError(
            "%(value)s is not a known IANA time zone (e.g. America/Chicago).",
            code="invalid_time_zone",
            params={"value": value},
        )


def validate_holiday_country(value: str) -> None:
    if value and value not in holidays.list_supported_countries():
        raise ValidationError(
            "%(value)s is not a country the holidays package knows (e.g. US, GB, DE).",
            code="invalid_country",
            params={"value": value},
        )


def validate_email_list(value: str) -> None:
    addresses = [e.strip() for e in value.replace(";", ",").split(",") if e.strip()]
    if not addresses:
        raise ValidationError("Give at least one e-mail address.", code="required")
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                "%(value)s is not an e-mail address.", code="invalid", params={"value": address}
            ) from None


def validate_currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ValidationError(
            "%(value)s is not a supported currency (%(known)s).",
            code="invalid_currency",
            params={"value": value, "known": ", ".join(CURRENCIES)},
        )
