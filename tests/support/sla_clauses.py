"""How the SLA catalog's clause tables are written and read.

The tables (``CLAUSES`` and ``NOT_TERMS`` in tests/support/sla_clauses_tiered.py and
tests/support/sla_clauses_multiplier.py, one module per seed document) walk the documents line by
line: each clause names the catalog field that expresses it and the value it must hold,
as a path that ``resolve`` follows on an SLAPolicy. Lines that carry no term (headings,
table headers, template placeholders, marketing copy) are listed in ``NOT_TERMS`` with the
reason. tests/contracts/test_sla_catalog.py checks both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contracts.models import Calendar, CreditBand, PolicyExclusion, SeverityTerm, SLAPolicy

TIERED_DOC = "004_46be3a448a7befe3.txt"
MULTIPLIER_DOC = "000_7aeefd3d59d167ff.txt"
TIERS = ("heretto-ccms", "heretto-enterprise", "deploy-essential", "deploy-scale")
BALTO = ("balto-uptime",)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Contains:
    """The field's text contains this phrase."""

    text: str


@dataclass(frozen=True)
class Clause:
    doc: str
    excerpt: str  # verbatim from the document
    policies: tuple[str, ...]
    path: str  # field path on the SLAPolicy
    expected: Any


def _hours(calendar: Calendar) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for iv in calendar.intervals.order_by("weekday", "start_minute"):
        result.setdefault(EVERY_DAY[iv.weekday], []).append(
            f"{iv.start_minute // 60:02d}:{iv.start_minute % 60:02d}-"
            f"{iv.end_minute // 60:02d}:{iv.end_minute % 60:02d}"
        )
    return result


def resolve(policy: SLAPolicy, path: str) -> Any:
    """Follow a clause's field path on a policy (see CLAUSES)."""
    if "]" in path:  # a bracket key may hold dots (bands[99.500])
        head, _, rest = path.partition("]")
        head, rest = head + "]", rest.lstrip(".")
    else:
        head, _, rest = path.partition(".")
    if head == "severities" and rest == "levels":
        return sorted(policy.severities.values_list("severity", flat=True))
    if head == "exclusions" and rest == "treatments":
        return set(policy.exclusions.values_list("treatment", flat=True))
    if head == "bands" and rest == "count":
        return policy.bands.count()
    if "[" in head:
        name, key = head[:-1].split("[")
        obj: Any
        if name == "exclusions":
            obj = PolicyExclusion.objects.filter(policy=policy, category=key).first()
        elif name == "severities":
            obj = SeverityTerm.objects.get(policy=policy, severity=int(key))
        else:
            obj = CreditBand.objects.get(policy=policy, lower_pct=Decimal(key))
    else:
        obj = getattr(policy, head)
    for attr in filter(None, rest.split(".")):
        if attr in ("response", "resolution"):
            obj = (getattr(obj, f"{attr}_value"), getattr(obj, f"{attr}_unit"))
        elif attr == "hours":
            obj = _hours(obj)
        else:
            obj = getattr(obj, attr)
    return obj
