"""What every contract of a service shares in a month, stored once for every worker.

Every contract of a service sees the same month of outages, and the significant-subset
rule compares an outage's customers with all of the service's customers that month.
Reading those outages and counting those customers on each statement made a month's run
cost contracts × (contracts + outages). So they are computed once and stored
(``ServiceMonthFacts``), where a worker on any machine reads them in one query.

Freshness: triggers bump the service's ``FactsStamp`` in the same transaction as any write
to what the facts are made of (outages, their scopes, contract lines, contracts' days in
force, the service; outages migration 0002). Stored facts are used only while their
version equals the stamp; otherwise they are computed again and stored over the old ones.
The stamp is read before the data it stamps, so facts computed from newer data than their
stamp say are merely recomputed once more, never kept stale.

Each process also keeps the facts it decoded, by (service, month, version): a new version
is a new key, so an old entry is never used again (and is dropped when the cache fills).
The bulk selector computes them afresh on each call instead (``month_facts_computed``):
the dashboards it serves promise the same number of queries on every request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from contracts.models import Contract, ContractLine
from outages.facts import OutageFact
from outages.intervals import Interval
from outages.models import FactsStamp, Outage, ServiceMonthFacts
from slaportal.months import month_bounds, month_days

FactsKey = tuple[int, date, int]  # service, month, version


@dataclass(frozen=True, eq=False, slots=True)
class ServiceFacts:
    """One service's month as every contract of it shares it."""

    service_id: int
    month: date
    version: int
    customers: int  # customers holding a line of the service in force in the month
    shared: tuple[OutageFact, ...]  # outages of every customer, by start
    scoped: Mapping[int, OutageFact]  # outages of chosen customers only, by id
    outages: Mapping[int, OutageFact]  # all of them, by id
    ongoing: bool  # some outage has not ended: figures depend on "now"

    @property
    def key(self) -> FactsKey:
        return (self.service_id, self.month, self.version)


_CACHE: dict[FactsKey, ServiceFacts] = {}
_CACHE_SIZE = 512  # a few months of every service; cleared whole when full


def month_facts(month: date, service_ids: Iterable[int]) -> dict[int, ServiceFacts]:
    """The current shared facts of each service for ``month``: one query when this
    process holds them already, two when it decodes them, and a refresh of those that
    are missing or stale."""
    month = month.replace(day=1)
    ids = sorted(set(service_ids))
    if not ids:
        return {}
    stamp = FactsStamp.objects.filter(service_id=OuterRef("service_id")).values("version")[:1]
    current = dict(
        ServiceMonthFacts.objects.filter(month=month, service_id__in=ids)
        .annotate(stamp=Coalesce(Subquery(stamp), Value(0)))
        .filter(version=F("stamp"))
        .values_list("service_id", "version")
    )
    found: dict[int, ServiceFacts] = {}
    undecoded = []
    for service_id, version in current.items():
        cached = _CACHE.get((service_id, month, version))
        if cached is None:
            undecoded.append(service_id)
        else:
            found[service_id] = cached
    if undecoded:
        rows = ServiceMonthFacts.objects.filter(month=month, service_id__in=undecoded)
        for row in rows.values("service_id", "version", "customers", "outages"):
            found[row["service_id"]] = _remember(_decode(month, **row))
    stale = [sid for sid in ids if sid not in found]
    if stale:
        found |= service_month_facts_refresh(month=month, service_ids=stale)
    return found


def service_month_facts_refresh(
    *, month: date, service_ids: Iterable[int], now: datetime | None = None
) -> dict[int, ServiceFacts]:
    """Compute the services' shared facts of ``month`` from the database and store them
    (a derived copy, written over any older one). The monthly run calls it once when it
    plans a month, so its tasks find them current; a reader calls it for what is stale."""
    facts, stored = _compute(month.replace(day=1), sorted(set(service_ids)))
    rows = [
        ServiceMonthFacts(
            service_id=sid,
            month=f.month,
            version=f.version,
            customers=f.customers,
            outages=stored.get(sid, []),
            computed_at=now or timezone.now(),
        )
        for sid, f in facts.items()
    ]
    # In service order, so two workers refreshing the same services never deadlock.
    ServiceMonthFacts.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["service", "month"],
        update_fields=["version", "customers", "outages", "computed_at"],
    )
    return facts


def month_facts_computed(month: date, service_ids: Iterable[int]) -> dict[int, ServiceFacts]:
    """The services' shared facts of ``month`` computed from the database now, neither
    read from the store nor written to it: the same three queries on every call (the
    bulk selector's dashboards promise a fixed number), and still this process's facts
    (and baselines) when their version is one it has seen."""
    return _compute(month.replace(day=1), sorted(set(service_ids)))[0]


def _compute(
    month: date, ids: list[int]
) -> tuple[dict[int, ServiceFacts], dict[int, list[StoredOutage]]]:
    # The stamp first: data newer than it only makes the stored facts look stale.
    versions = dict(
        FactsStamp.objects.filter(service_id__in=ids).values_list("service_id", "version")
    )
    outages = _outages(ids, month)
    customers = _customers(ids, month)
    facts = {}
    for sid in ids:
        version = versions.get(sid, 0)
        known = _CACHE.get((sid, month, version))
        facts[sid] = known or _remember(
            _decode(
                month,
                service_id=sid,
                version=version,
                customers=customers.get(sid, 0),
                outages=outages.get(sid, []),
            )
        )
    return facts, outages


def _remember(facts: ServiceFacts) -> ServiceFacts:
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[facts.key] = facts
    return facts


def forget() -> None:
    """Drop this process's decoded facts (tests; a benchmark's replaced worker)."""
    _CACHE.clear()


# ---------------------------------------------------------------- reading the database


def month_window(month: date) -> Interval:
    """UTC bounds wide enough for the month in any zone (±14 h)."""
    start, _ = month_bounds(month, "Etc/GMT-14")
    _, end = month_bounds(month, "Etc/GMT+12")
    return Interval(start, end)


# An outage as stored: [id, title, category, started, ended, confirmed, affected, critical]
# (ISO 8601 times, ended/confirmed may be null; affected: its customers' count when it is
# limited to chosen customers, else null).
StoredOutage = list


def _outages(service_ids: list[int], month: date) -> dict[int, list[StoredOutage]]:
    """The outages of the month by service (by start), as stored."""
    start, end = month_window(month)
    rows = (
        # A dismissed outage (a false alarm) never counts anywhere.
        Outage.objects.filter(service_id__in=service_ids, started_at__lt=end)
        .filter(dismissed_at__isnull=True)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .annotate(affected=Count("customers"))
        .order_by("started_at", "pk")
        .values_list(
            "pk",
            "service_id",
            "title",
            "category",
            "started_at",
            "ended_at",
            "confirmed_at",
            "scope",
            "affected",
            "service__critical",
        )
    )
    by_service: dict[int, list[StoredOutage]] = defaultdict(list)
    for pk, sid, title, category, started, ended, confirmed, scope, affected, critical in rows:
        scoped = scope == Outage.Scope.CUSTOMERS
        by_service[sid].append(
            [
                pk,
                title,
                category,
                started.isoformat(),
                _iso(ended),
                _iso(confirmed),
                affected if scoped else None,
                critical,
            ]
        )
    return by_service


def _customers(service_ids: list[int], month: date) -> dict[int, int]:
    """Customers holding a contract line for each service that is in force in the month."""
    rows = (
        ContractLine.objects.filter(service_id__in=service_ids)
        .filter(contract__in=Contract.objects.in_force_during(*month_days(month)))
        .values("service_id")
        .annotate(customers=Count("contract__customer", distinct=True))
    )
    return {row["service_id"]: row["customers"] for row in rows}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _decode(
    month: date, *, service_id: int, version: int, customers: int, outages: list[StoredOutage]
) -> ServiceFacts:
    shared: list[OutageFact] = []
    scoped: dict[int, OutageFact] = {}
    by_id: dict[int, OutageFact] = {}
    for pk, title, category, started, ended, confirmed, affected, critical in outages:
        fact = OutageFact(
            id=pk,
            title=title,
            category=category,
            started_at=datetime.fromisoformat(started),
            ended_at=_time(ended),
            confirmed_at=_time(confirmed),
            affected_accounts=affected,
            # A service without customers this month still divides by one.
            service_accounts=customers or 1,
            service_critical=critical,
        )
        by_id[pk] = fact
        if affected is None:
            shared.append(fact)
        else:
            scoped[pk] = fact
    return ServiceFacts(
        service_id=service_id,
        month=month,
        version=version,
        customers=customers,
        shared=tuple(shared),
        scoped=scoped,
        outages=by_id,
        ongoing=any(f.ended_at is None for f in by_id.values()),
    )
