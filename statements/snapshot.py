"""The statement's snapshot: every term and figure it used, as plain JSON.

Built once when the statement is generated and never changed, so the PDF, the pages
and the API show what was issued even after a policy, a fee or an outage changes.
Shape (``schema`` 1); times are ISO 8601 UTC, amounts decimal strings, exact
fractions ``"numerator/denominator"``::

    period    month "YYYY-MM", label, zone, start, end, seconds, minutes, days
    provider  name, address lines, e-mail
    customer  id, name, billing_emails
    contract  id, reference, start_date, end_date, terminated_on, currency
    policy    code, version, name, source_document, target_pct, denominator_basis,
              measurement_calendar {name, zone}, credit_rule, clauses {credit, cap,
              eligibility}, exclusions [{category, label, treatment, clause}]
    services  [{service_id, name, monthly_fee, availability (exact), availability_pct
              (cut to 6 places), display (cut to 3), met, period_start, period_end,
              share_of_month, month/period/measured/removed/denominator/downtime
              _seconds, denominator_minutes, downtime_minutes, days [{date,
              downtime_seconds}], counted [...], excluded [...]}]
    support   see ``statements.selectors.support_attainment``
    credits   [{credit_id, service_id, service, revision, amount, status, reason,
              band, working [{label, value, clause}]}]
    credit_total, currency, replaces {id, number, revision} | null, preview (drafts)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from contracts.models import Contract, DowntimeCategory
from credits.models import Credit
from outages.availability import Availability, OutageFact, Verdict
from outages.selectors import ServiceMonth
from slaportal.encoded_json import EncodedJSON, object_text
from slaportal.formatting import minutes_text, percent_cut
from slaportal.money import round_money
from slaportal.months import month_bounds, next_month

SCHEMA = 1
LABELS = dict(DowntimeCategory.choices)


class OutageTimes(NamedTuple):
    """An outage's recorded times, which the engine's verdicts do not carry (the engine's
    ``OutageFact`` has the same three)."""

    started_at: datetime | None
    ended_at: datetime | None
    confirmed_at: datetime | None


Recorded = OutageTimes | OutageFact


_UNKNOWN = OutageTimes(None, None, None)


def _fraction(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _minutes(seconds: int) -> str:
    """Whole minutes as they are ("43200"), anything else to two places ("90.50")."""
    return minutes_text(Fraction(seconds, 60), grouped=False)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _period(month: date, zone: str) -> dict:
    start, end = month_bounds(month, zone)
    seconds = int((end - start).total_seconds())
    return {
        "month": f"{month:%Y-%m}",
        "label": f"{month:%B %Y}",
        "zone": zone,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "seconds": seconds,
        "minutes": _minutes(seconds),
        "hours": minutes_text(Fraction(seconds, 3600), grouped=False),  # the same figure rule
        "days": (next_month(month) - month).days,
    }


# A month's run writes the same outage's entry into thousands of statements (every
# customer of the service shares it): each, and its JSON text, is built once per process
# and shared by those snapshots, which are stored as they are and never changed.
_OUTAGE_ENTRIES: dict[tuple[Verdict, Recorded], tuple[dict, str]] = {}
_OUTAGE_ENTRIES_KEPT = 50_000


def _outage(verdict: Verdict, times: Mapping[int, Recorded]) -> tuple[dict, str]:
    recorded = times.get(verdict.outage_id, _UNKNOWN)
    found = _OUTAGE_ENTRIES.get((verdict, recorded))
    if found is None:
        if len(_OUTAGE_ENTRIES) >= _OUTAGE_ENTRIES_KEPT:
            _OUTAGE_ENTRIES.clear()
        entry = _outage_entry(verdict, recorded)
        found = _OUTAGE_ENTRIES[verdict, recorded] = (entry, json.dumps(entry))
    return found


def _entries(verdicts: Iterable[Verdict], times: Mapping[int, Recorded]) -> tuple[list[dict], str]:
    """The outages' entries, and the JSON text of their list."""
    found = [_outage(verdict, times) for verdict in verdicts]
    return [entry for entry, _ in found], f"[{', '.join(text for _, text in found)}]"


def _outage_entry(verdict: Verdict, recorded: Recorded) -> dict:
    started, ended, confirmed = recorded.started_at, recorded.ended_at, recorded.confirmed_at
    return {
        "outage_id": verdict.outage_id,
        "title": verdict.title,
        "category": verdict.category,
        "category_label": LABELS.get(verdict.category, verdict.category),
        "started_at": _iso(started),
        "ended_at": _iso(ended),
        "confirmed_at": _iso(confirmed),
        "seconds": verdict.seconds,
        "minutes": _minutes(verdict.seconds),
        "code": verdict.code,
        "reason": verdict.reason,
    }


def _service(row: ServiceMonth, target: Decimal, times: Mapping[int, Recorded]) -> tuple[dict, str]:
    """A service's section, and its JSON text."""
    head = {"service_id": row.service.pk, "name": row.service.name}
    head["monthly_fee"] = str(row.monthly_fee)
    part, text = _figures(row.result, target, row.outages or times)
    return {**head, **part}, f"{json.dumps(head)[:-1]}, {text}}}"


# Thousands of statements of a month report the same figures (every contract of a
# policy and a service without outages of its own shares them): their part of a
# snapshot, and its text, is built once per process and shared in the same way. Keyed
# by the figures' identity, holding them meanwhile.
_FIGURES: dict[int, tuple[Availability, Decimal, Mapping[int, Recorded], dict, str]] = {}
_FIGURES_KEPT = 4_096


def _figures(
    figures: Availability, target: Decimal, times: Mapping[int, Recorded]
) -> tuple[dict, str]:
    """The figures' part of a service's section, and its JSON text without the braces."""
    cached = _FIGURES.get(id(figures))
    if cached is not None and cached[0] is figures and cached[1] == target and cached[2] is times:
        return cached[3], cached[4]
    part = {
        "availability": _fraction(figures.availability),
        "availability_pct": str(percent_cut(figures.availability, 6)),
        "display": figures.display,
        "met": figures.availability * 100 >= Fraction(target),
        "period_start": figures.period_start.isoformat(),
        "period_end": figures.period_end.isoformat(),
        "share_of_month": _fraction(figures.share_of_month),
        "month_seconds": figures.month_seconds,
        "period_seconds": figures.period_seconds,
        "measured_seconds": figures.measured_seconds,
        "removed_seconds": figures.removed_seconds,
        "denominator_seconds": figures.denominator_seconds,
        "downtime_seconds": figures.downtime_seconds,
        "denominator_minutes": _minutes(figures.denominator_seconds),
        "downtime_minutes": _minutes(figures.downtime_seconds),
        "days": [
            {"date": day.day.isoformat(), "downtime_seconds": day.downtime_seconds}
            for day in figures.days
        ],
    }
    counted, counted_text = _entries((v for v in figures.verdicts if v.counted), times)
    excluded, excluded_text = _entries((v for v in figures.verdicts if not v.counted), times)
    texts = [f"{json.dumps(key)}: {json.dumps(value)}" for key, value in part.items()]
    part |= {"counted": counted, "excluded": excluded}
    texts += [f'"counted": {counted_text}', f'"excluded": {excluded_text}']
    text = ", ".join(texts)
    if len(_FIGURES) >= _FIGURES_KEPT:
        _FIGURES.clear()
    _FIGURES[id(figures)] = (figures, target, times, part, text)
    return part, text


def _credit(credit: Credit) -> dict:
    working = credit.working or {}
    return {
        "credit_id": credit.pk,
        "service_id": credit.service_id,
        "service": credit.service.name,
        "revision": credit.revision,
        "amount": str(credit.amount),
        "status": credit.status,
        "reason": credit.reason,
        "band": working.get("band"),
        "working": list(working.get("working", [])),
    }


def _policy(contract: Contract) -> dict:
    policy = contract.policy
    calendar = policy.measurement_calendar
    return {
        "code": policy.code,
        "version": policy.version,
        "name": policy.name,
        "source_document": policy.source_document,
        "target_pct": str(policy.target_availability),
        "denominator_basis": policy.denominator_basis,
        "denominator_label": policy.get_denominator_basis_display(),
        "downtime_starts_at": policy.downtime_starts_at,
        "measurement_calendar": {"name": calendar.name, "zone": calendar.time_zone},
        "credit_rule": policy.credit_rule,
        "credit_multiplier": None
        if policy.credit_multiplier is None
        else str(policy.credit_multiplier),
        "credit_cap_pct": None if policy.credit_cap_pct is None else str(policy.credit_cap_pct),
        "clauses": {
            "credit": policy.credit_clause,
            "cap": policy.credit_cap_clause,
            "eligibility": policy.eligibility_clause,
        },
        "exclusions": [
            {
                "category": e.category,
                "label": LABELS.get(e.category, e.category),
                "treatment": e.treatment,
                "clause": e.clause,
            }
            for e in policy.exclusions.all()
        ],
    }


def build_snapshot(
    *,
    contract: Contract,
    month: date,
    rows: Sequence[ServiceMonth],
    outage_times: Mapping[int, Recorded],
    credits: Sequence[Credit],
    support: dict,
    provider: dict,
    generated_at: datetime,
    replaces: dict | None = None,
    preview: list[dict] | None = None,
) -> EncodedJSON:
    """The snapshot of one statement (see the module docstring), with its JSON text.
    ``preview``: a draft's credits as the rules give them, not yet written or checked
    for eligibility."""
    zone = contract.policy.measurement_calendar.time_zone
    customer = contract.customer
    currency = contract.currency
    credit_rows = [_credit(c) for c in credits]
    amounts = [Decimal(c["amount"]) for c in (preview if preview is not None else credit_rows)]
    services, services_text = _services(contract, rows, outage_times)
    snapshot = {
        "schema": SCHEMA,
        "generated_at": generated_at.isoformat(),
        "period": _period(month, zone),
        "provider": provider,
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "billing_emails": customer.billing_email_list,
        },
        "contract": {
            "id": contract.pk,
            "reference": contract.reference,
            "start_date": contract.start_date.isoformat(),
            "end_date": _iso_date(contract.end_date),
            "terminated_on": _iso_date(contract.terminated_on),
            "currency": currency,
        },
        "policy": _policy(contract),
        "services": services,
        "support": support,
        "credits": credit_rows,
        "preview": preview,
        "credit_total": str(round_money(sum(amounts, Decimal(0)), currency)),
        "currency": currency,
        "replaces": replaces,
    }
    text = object_text(
        (key, services_text if key == "services" else json.dumps(value))
        for key, value in snapshot.items()
    )
    return EncodedJSON(snapshot, text)


def forget() -> None:
    """Drop this process's built parts (tests; a benchmark's fresh worker)."""
    _OUTAGE_ENTRIES.clear()
    _FIGURES.clear()


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def services_section(
    contract: Contract, rows: Sequence[ServiceMonth], outage_times: Mapping[int, Recorded]
) -> list[dict]:
    """The availability figures per service: what a re-issue compares."""
    return _services(contract, rows, outage_times)[0]


def _services(
    contract: Contract, rows: Sequence[ServiceMonth], outage_times: Mapping[int, Recorded]
) -> tuple[list[dict], str]:
    target = contract.policy.target_availability
    sections = [_service(row, target, outage_times) for row in rows]
    return [section for section, _ in sections], f"[{', '.join(text for _, text in sections)}]"
