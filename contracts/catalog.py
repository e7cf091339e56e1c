"""The built-in SLA catalog: both seed documents as data (contracts/data/sla_catalog.json).

``catalog_load`` validates the whole file and writes it in one transaction, so a bad
catalog is refused with a message naming the problem and nothing is saved. Loading
the same catalog twice changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from contracts.models import Calendar, SLAPolicy
from contracts.services import (
    CalendarSpec,
    ExclusionSpec,
    SeveritySpec,
    calendar_snapshot,
    calendar_upsert,
    policy_terms_snapshot,
    policy_upsert,
)

DEFAULT_CATALOG = Path(__file__).resolve().parent / "data" / "sla_catalog.json"


class CatalogError(Exception):
    pass


@dataclass
class CatalogResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _describe(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def _calendar_spec(raw: dict[str, Any]) -> CalendarSpec:
    return CalendarSpec(
        code=raw["code"],
        name=raw["name"],
        time_zone=raw["time_zone"],
        hours={day: [tuple(pair) for pair in pairs] for day, pairs in raw["hours"].items()},
        holiday_country=raw.get("holiday_country", ""),
        holiday_subdivision=raw.get("holiday_subdivision", ""),
        custom_holidays=[
            (date.fromisoformat(h["date"]), h.get("name", ""))
            for h in raw.get("custom_holidays", [])
        ],
    )


def _policy_terms(raw: dict[str, Any], calendars: dict[str, Calendar]) -> dict[str, Any]:
    nested = {"bands", "exclusions", "severities"}
    terms = {k: v for k, v in raw.items() if k not in nested}
    for key in ("measurement_calendar", "support_calendar"):
        code = terms.get(key)
        if code is not None:
            if code not in calendars:
                raise CatalogError(f"policy {raw.get('code')}: {key} {code!r} is not a calendar.")
            terms[key] = calendars[code]
    return terms


def catalog_load(path: Path | str = DEFAULT_CATALOG) -> CatalogResult:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc}") from None
    result = CatalogResult()
    with transaction.atomic():
        calendars: dict[str, Calendar] = {c.code: c for c in Calendar.objects.all()}
        for raw in data.get("calendars", []):
            label = f"calendar {raw.get('code')}"
            try:
                spec = _calendar_spec(raw)
                before = calendars.get(spec.code)
                snapshot = calendar_snapshot(before) if before else None
                calendar = calendar_upsert(spec)
            except (KeyError, TypeError, ValueError) as exc:
                raise CatalogError(f"{label}: malformed entry ({exc}).") from None
            except ValidationError as exc:
                raise CatalogError(f"{label}: {_describe(exc)}") from None
            calendars[spec.code] = calendar
            _tally(result, label, snapshot, calendar_snapshot(calendar))
        for raw in data.get("policies", []):
            label = f"policy {raw.get('code')} v{raw.get('version', 1)}"
            before = SLAPolicy.objects.filter(
                code=raw.get("code"), version=raw.get("version", 1)
            ).first()
            snapshot = policy_terms_snapshot(before) if before else None
            try:
                policy = policy_upsert(
                    terms=_policy_terms(raw, calendars),
                    bands=[tuple(b) for b in raw.get("bands", [])],
                    exclusions=[ExclusionSpec(**e) for e in raw.get("exclusions", [])],
                    severities=[
                        SeveritySpec(
                            **{
                                **s,
                                "response": tuple(s["response"]),
                                "resolution": tuple(s["resolution"]),
                            }
                        )
                        for s in raw.get("severities", [])
                    ],
                )
            except (KeyError, TypeError) as exc:
                raise CatalogError(f"{label}: malformed entry ({exc}).") from None
            except ValidationError as exc:
                raise CatalogError(f"{label}: {_describe(exc)}") from None
            _tally(result, label, snapshot, policy_terms_snapshot(policy))
    return result


def _tally(result: CatalogResult, label: str, before: Any, after: Any) -> None:
    if before is None:
        result.created.append(label)
    elif before == after:
        result.unchanged.append(label)
    else:
        result.updated.append(label)
