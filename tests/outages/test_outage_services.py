"""Recording and changing outages: validation, the timeline, re-issue requests, and the
database selector that feeds the availability engine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import SLAPolicy
from contracts.services import contract_create
from outages.models import Outage, OutageUpdate, ReissueRequest
from outages.selectors import availability_for_month, contract_availability, policy_terms
from outages.services import outage_change, outage_close, outage_post_update, outage_record
from tests.support.availability_terms import ET, MULTIPLIER, TIERED
from tests.support.factories import CustomerFactory, ServiceFactory

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.fixture
def ccms(db):
    return ServiceFactory(name="CCMS", code="ccms")


def _contract(customer, service, code="heretto-ccms", start=date(2026, 1, 1), **kw):
    return contract_create(
        customer=customer,
        policy=SLAPolicy.objects.get(code=code),
        reference=f"{customer.name}-{code}",
        start_date=start,
        currency="USD",
        lines=[(service, Decimal("1000.00"))],
        **kw,
    )


def _record(service, start, end=None, **kw):
    return outage_record(
        service=service,
        started_at=start,
        ended_at=end,
        title=kw.pop("title", "Down"),
        category=kw.pop("category", "internal"),
        actor=None,
        now=kw.pop("now", NOW),
        **kw,
    )


def test_policy_terms_from_the_catalog_match_the_seed_documents(catalog):
    for code, expected in (("heretto-ccms", TIERED), ("balto-uptime", MULTIPLIER)):
        terms = policy_terms(SLAPolicy.objects.get(code=code))
        assert terms.zone == expected.zone
        assert terms.measurement.weekly == expected.measurement.weekly
        assert dict(terms.exclusions) == dict(expected.exclusions)
        assert (terms.denominator_basis, terms.downtime_from_confirmation) == (
            expected.denominator_basis,
            expected.downtime_from_confirmation,
        )
        assert terms.significant_subset_pct == expected.significant_subset_pct
        assert terms.counts_only_critical_services == expected.counts_only_critical_services


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end": datetime(2026, 11, 1, 9, tzinfo=UTC)}, "ended_at", "end after it starts"),
        ({"start": datetime(2026, 12, 1, tzinfo=UTC)}, "started_at", "in the future"),
        ({"category": "gremlins"}, "category", "'gremlins' is not a category"),
        ({"scope": "customers"}, "customers", "at least one customer"),
    ],
)
def test_bad_outages_are_refused_with_the_field_named_and_nothing_saved(
    ccms, changes, field, message
):
    start = changes.get("start", datetime(2026, 11, 1, 10, tzinfo=UTC))
    with pytest.raises(ValidationError) as excinfo:
        _record(
            ccms,
            start,
            changes.get("end"),
            category=changes.get("category", "internal"),
            scope=changes.get("scope", "all"),
        )
    assert message in " ".join(excinfo.value.message_dict[field])
    assert Outage.objects.count() == 0 and OutageUpdate.objects.count() == 0


def test_a_scope_naming_a_customer_without_the_service_is_refused(catalog, ccms):
    stranger = CustomerFactory(name="Stranger Co")
    with pytest.raises(ValidationError) as excinfo:
        _record(
            ccms, datetime(2026, 11, 1, 10, tzinfo=UTC), scope="customers", customers=[stranger]
        )
    assert "Stranger Co has no contract for CCMS" in excinfo.value.message_dict["customers"][0]
    assert Outage.objects.count() == 0


def test_maintenance_may_be_announced_ahead_but_other_outages_may_not(ccms):
    ahead = datetime(2026, 12, 5, 2, tzinfo=UTC)
    window = _record(
        ccms,
        ahead,
        datetime(2026, 12, 5, 4, tzinfo=UTC),
        category="scheduled_maintenance",
        announced_at=NOW,
    )
    assert window.is_maintenance and window.announced_at == NOW
    with pytest.raises(ValidationError):
        _record(ccms, datetime(2026, 11, 1, tzinfo=UTC), announced_at=NOW)


def test_timeline_keeps_public_and_internal_updates_and_close_ends_it(ccms):
    outage = _record(ccms, datetime(2026, 11, 22, 9, tzinfo=UTC), description="Editor down.")
    outage_post_update(
        outage=outage, text="Root cause: disk full.", public=False, actor=None, now=NOW
    )
    outage_close(
        outage=outage, ended_at=datetime(2026, 11, 22, 11, tzinfo=UTC), actor=None, now=NOW
    )
    outage.refresh_from_db()
    assert outage.ended_at == datetime(2026, 11, 22, 11, tzinfo=UTC)
    assert [u.public for u in outage.updates.all()] == [True, False, True]
    with pytest.raises(ValidationError, match="already closed"):
        outage_close(outage=outage, ended_at=NOW, actor=None, now=NOW)
    with pytest.raises(ValidationError):
        outage_post_update(outage=outage, text="   ", public=True, actor=None)


def test_an_outage_recorded_in_an_ended_month_asks_for_that_months_reissue(catalog, ccms):
    acme, globex = CustomerFactory(name="Acme"), CustomerFactory(name="Globex")
    _contract(acme, ccms)
    _contract(globex, ccms)
    _record(ccms, datetime(2026, 11, 3, 10, tzinfo=UTC), datetime(2026, 11, 3, 11, tzinfo=UTC))
    assert ReissueRequest.objects.count() == 0  # November is still running
    late = _record(
        ccms,
        datetime(2026, 10, 3, 10, tzinfo=UTC),
        datetime(2026, 10, 3, 11, tzinfo=UTC),
        scope="customers",
        customers=[acme],
    )
    assert list(ReissueRequest.objects.values_list("contract__customer__name", "month")) == [
        ("Acme", date(2026, 10, 1))
    ]
    # Moving it into September touches both months; October's request is not doubled.
    outage_change(
        outage=late, actor=None, now=NOW, started_at=datetime(2026, 9, 30, 10, tzinfo=UTC)
    )
    months = sorted(ReissueRequest.objects.values_list("month", flat=True))
    assert months == [date(2026, 9, 1), date(2026, 10, 1)]


def test_contract_availability_reads_the_database_in_a_fixed_number_of_queries(catalog, ccms):
    customers = [CustomerFactory() for _ in range(3)]
    contracts = [_contract(c, ccms) for c in customers]
    _record(ccms, datetime(2026, 6, 10, 16, tzinfo=UTC), datetime(2026, 6, 10, 19, tzinfo=UTC))
    _record(
        ccms,
        datetime(2026, 6, 11, 16, tzinfo=UTC),
        datetime(2026, 6, 11, 17, tzinfo=UTC),
        scope="customers",
        customers=[customers[0]],
    )
    with CaptureQueriesContext(connection) as few:
        rows = list(availability_for_month(date(2026, 6, 1)))
    more = [CustomerFactory() for _ in range(4)]
    for customer in more:
        _contract(customer, ccms)
        _record(
            ccms,
            datetime(2026, 6, 12, 16, tzinfo=UTC),
            datetime(2026, 6, 12, 17, tzinfo=UTC),
            scope="customers",
            customers=[customer],
        )
    with CaptureQueriesContext(connection) as many:
        list(availability_for_month(date(2026, 6, 1)))
    assert len(many) == len(few)
    by_customer = {r.contract.customer_id: r.result for r in rows}
    assert by_customer[customers[0].pk].downtime_minutes == 240
    assert by_customer[customers[1].pk].downtime_minutes == 180
    # 1 of 3 customers is not below the tiered policy's (absent) threshold: it counts.
    one = contract_availability(contracts[0], date(2026, 6, 1))
    assert one[0].result.downtime_minutes == 240


def test_another_customers_scoped_outage_is_not_listed_for_this_account(catalog, ccms):
    acme, globex = CustomerFactory(name="Acme"), CustomerFactory(name="Globex")
    acme_contract = _contract(acme, ccms)
    _contract(globex, ccms)
    _record(
        ccms,
        datetime(2026, 6, 11, 16, tzinfo=UTC),
        datetime(2026, 6, 11, 17, tzinfo=UTC),
        scope="customers",
        customers=[globex],
        title="Globex only",
    )
    (row,) = contract_availability(acme_contract, date(2026, 6, 1))
    assert row.result.verdicts == () and row.result.downtime_seconds == 0


def test_month_boundaries_follow_each_contracts_policy_zone(catalog, ccms):
    acme = CustomerFactory(name="Acme")
    contract = _contract(acme, ccms)
    # 1 June 01:00 UTC is still 31 May 21:00 in New York: May's downtime, not June's.
    _record(ccms, datetime(2026, 6, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, 2, tzinfo=UTC))
    may = contract_availability(contract, date(2026, 5, 1))[0].result
    june = contract_availability(contract, date(2026, 6, 1))[0].result
    assert (may.downtime_minutes, june.downtime_minutes) == (60, 0)
    assert may.days[-1].day == date(2026, 5, 31) and may.days[-1].downtime_seconds == 3600
    assert datetime(2026, 5, 31, 21, tzinfo=ET).astimezone(UTC).hour == 1


@pytest.mark.parametrize("role", ["agent", "account_manager"])
def test_staff_of_other_areas_may_not_record_change_update_or_close_an_outage(ccms, role):
    from django.core.exceptions import PermissionDenied

    from tests.support.factories import StaffFactory

    outsider = StaffFactory(role=role)
    start = datetime(2026, 11, 22, 9, tzinfo=UTC)
    with pytest.raises(PermissionDenied):
        outage_record(
            service=ccms, started_at=start, title="Down", category="internal", actor=outsider
        )
    outage = _record(ccms, start)
    with pytest.raises(PermissionDenied):
        outage_change(outage=outage, actor=outsider, title="Renamed", now=NOW)
    with pytest.raises(PermissionDenied):
        outage_post_update(outage=outage, text="Looking.", public=True, actor=outsider, now=NOW)
    with pytest.raises(PermissionDenied):
        outage_close(outage=outage, ended_at=NOW, actor=outsider, now=NOW)
    outage.refresh_from_db()
    assert (outage.title, outage.ended_at, outage.updates.count()) == ("Down", None, 1)


@pytest.mark.parametrize("role", ["operations", "admin"])
def test_operations_and_administrators_act_on_outages(ccms, role):
    from tests.support.factories import StaffFactory

    staff = StaffFactory(role=role)
    start = datetime(2026, 11, 22, 9, tzinfo=UTC)
    outage = outage_record(
        service=ccms, started_at=start, title="Down", category="internal", actor=staff, now=NOW
    )
    outage_change(outage=outage, actor=staff, title="Editor down", now=NOW)
    outage_post_update(outage=outage, text="Looking.", public=True, actor=staff, now=NOW)
    outage_close(outage=outage, ended_at=NOW, actor=staff, now=NOW)
    outage.refresh_from_db()
    assert (outage.title, outage.ended_at) == ("Editor down", NOW)
