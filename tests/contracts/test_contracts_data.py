"""Contracts data: bad input is refused with a message naming the problem and nothing is
saved — through the services (used by the loader and the API) and the admin. The database's
own refusal, when validation is bypassed, is in test_database_constraints.py."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from contracts.models import (
    Calendar,
    Contract,
    ContractLine,
    CreditBand,
    Customer,
    Invoice,
    OpeningInterval,
    SLAPolicy,
)
from contracts.services import (
    CalendarSpec,
    calendar_upsert,
    contract_create,
    customer_create,
    invoice_create,
    policy_upsert,
)
from tests.support.factories import ContractFactory, CustomerFactory, ServiceFactory, policy_terms

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _messages(exc: ValidationError) -> str:
    return " ".join(m for ms in exc.message_dict.values() for m in ms)


# ------------------------------------------------------------------ services


@pytest.mark.parametrize(
    ("hours", "time_zone", "message"),
    [
        ({"mon": [("09:00", "13:00"), ("12:00", "17:00")]}, "America/Chicago", "overlap"),
        ({"tue": [("17:00", "09:00")]}, "America/Chicago", "17:00"),
        ({"mon": [("09:00", "17:00")]}, "America/Chicgo", "America/Chicgo"),
        ({"funday": [("09:00", "17:00")]}, "America/Chicago", "funday"),
        ({"mon": [("09:00", "25:00")]}, "America/Chicago", "25:00"),
    ],
)
def test_calendar_with_bad_hours_or_zone_is_refused_and_not_saved(db, hours, time_zone, message):
    spec = CalendarSpec(code="bad", name="Bad", time_zone=time_zone, hours=hours)
    with pytest.raises(ValidationError) as excinfo:
        calendar_upsert(spec)
    assert message in _messages(excinfo.value)
    assert Calendar.objects.count() == 0
    assert OpeningInterval.objects.count() == 0


def test_calendar_allows_several_intervals_a_day_and_24_00(db):
    calendar = calendar_upsert(
        CalendarSpec(
            code="split",
            name="Split",
            time_zone="Europe/London",
            hours={"mon": [("06:00", "12:00"), ("13:00", "24:00")]},
            holiday_country="GB",
            holiday_subdivision="ENG",
            custom_holidays=[(date(2026, 12, 24), "Christmas Eve")],
        )
    )
    assert list(calendar.intervals.values_list("start_minute", "end_minute")) == [
        (360, 720),
        (780, 1440),
    ]
    assert calendar.custom_holidays.get().name == "Christmas Eve"


@pytest.fixture
def calendar(db):
    return calendar_upsert(
        CalendarSpec(
            code="24x7",
            name="24x7",
            time_zone="UTC",
            hours={d: [("00:00", "24:00")] for d in WEEKDAYS + ("sat", "sun")},
        )
    )


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([("99.5", None, "0"), ("95", "99", "10"), ("0", "95", "50")], "gap"),
        ([("99.5", None, "0"), ("95", "99.6", "10"), ("0", "95", "50")], "overlaps"),
        ([("99.5", "100", "0"), ("0", "99.5", "10")], "open-ended"),
        ([("99.5", None, "0"), ("10", "99.5", "10")], "nothing covers [0, 10"),
        ([("99.5", None, "0"), ("0", "99.5", "120")], "120"),
        ([], "at least one"),
    ],
)
def test_credit_bands_with_a_gap_or_overlap_are_refused_and_not_saved(calendar, bands, message):
    with pytest.raises(ValidationError) as excinfo:
        policy_upsert(terms=policy_terms(calendar), bands=bands)
    assert message in _messages(excinfo.value)
    assert SLAPolicy.objects.count() == 0
    assert CreditBand.objects.count() == 0


def test_multiplier_policy_needs_a_multiplier(calendar):
    with pytest.raises(ValidationError) as excinfo:
        policy_upsert(terms=policy_terms(calendar, credit_rule="multiplier"))
    assert "positive multiplier" in _messages(excinfo.value)
    assert SLAPolicy.objects.count() == 0


def test_customer_with_unknown_time_zone_or_bad_email_is_refused(db):
    with pytest.raises(ValidationError) as excinfo:
        customer_create(name="Zed", billing_emails="ap@zed.example", time_zone="Mars/Olympus")
    assert "Mars/Olympus is not a known IANA time zone" in _messages(excinfo.value)
    with pytest.raises(ValidationError) as excinfo:
        customer_create(name="Zed", billing_emails="not-an-address", time_zone="UTC")
    assert "not-an-address is not an e-mail address" in _messages(excinfo.value)
    assert Customer.objects.count() == 0


def test_contract_ending_before_it_starts_is_refused_and_not_saved(catalog):
    customer, service = CustomerFactory(), ServiceFactory()
    with pytest.raises(ValidationError) as excinfo:
        contract_create(
            customer=customer,
            policy=SLAPolicy.objects.get(code="heretto-ccms"),
            reference="X-1",
            start_date=date(2026, 3, 1),
            end_date=date(2026, 2, 28),
            currency="USD",
            lines=[(service, "100.00")],
        )
    assert "cannot end before it starts" in _messages(excinfo.value)
    assert Contract.objects.count() == 0


def test_negative_fee_is_refused_and_nothing_is_saved(catalog):
    customer, ok, bad = CustomerFactory(), ServiceFactory(), ServiceFactory()
    with pytest.raises(ValidationError) as excinfo:
        contract_create(
            customer=customer,
            policy=SLAPolicy.objects.get(code="heretto-ccms"),
            reference="X-2",
            start_date=date(2026, 3, 1),
            currency="USD",
            lines=[(ok, "100.00"), (bad, "-5.00")],
        )
    assert "cannot be negative" in _messages(excinfo.value)
    assert Contract.objects.count() == 0
    assert ContractLine.objects.count() == 0


def test_invoice_due_before_issue_is_refused(catalog):
    contract = ContractFactory(policy=SLAPolicy.objects.get(code="heretto-ccms"))
    with pytest.raises(ValidationError) as excinfo:
        invoice_create(
            contract=contract,
            number="INV-1",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 1, 31),
            amount="10.00",
            issued_on=date(2026, 2, 1),
            due_on=date(2026, 1, 1),
        )
    assert "fall due before it is issued" in _messages(excinfo.value)
    assert Invoice.objects.count() == 0


# ------------------------------------------------------------------ admin


def _inline(prefix: str, rows: list[dict], initial: int = 0) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _calendar_post(time_zone: str, intervals: list[tuple[int, str, str]]):
    return {
        "code": "admin-cal",
        "name": "Admin calendar",
        "time_zone": time_zone,
        "holiday_country": "",
        "holiday_subdivision": "",
        **_inline(
            "intervals",
            [{"weekday": str(d), "start_minute": s, "end_minute": e} for d, s, e in intervals],
        ),
        **_inline("custom_holidays", []),
    }


@pytest.mark.parametrize(
    ("time_zone", "intervals", "message"),
    [
        ("America/Chicago", [(0, "09:00", "13:00"), (0, "12:00", "17:00")], "overlap"),
        ("America/Chicago", [(1, "17:00", "09:00")], "17:00"),
        ("Chicago", [(0, "09:00", "17:00")], "Chicago is not a known IANA time zone"),
    ],
)
def test_admin_refuses_bad_calendars_and_saves_nothing(admin_client, time_zone, intervals, message):
    response = admin_client.post(
        "/admin/contracts/calendar/add/", _calendar_post(time_zone, intervals)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Calendar.objects.count() == 0


def test_admin_saves_a_good_calendar(admin_client):
    response = admin_client.post(
        "/admin/contracts/calendar/add/",
        _calendar_post("America/Chicago", [(0, "09:00", "12:00"), (0, "13:00", "24:00")]),
    )
    assert response.status_code == 302
    assert Calendar.objects.get().intervals.count() == 2


def _policy_post(calendar: Calendar, bands: list[tuple[str, str, str]]):
    return {
        "code": "admin-policy",
        "version": "1",
        "name": "Admin policy",
        "source_document": "",
        "effective_from": "2026-01-01",
        "effective_to": "",
        "change_notice_days": "",
        "target_availability": "99.5",
        "measurement_calendar": str(calendar.pk),
        "denominator_basis": "calendar_minutes",
        "downtime_starts_at": "detection",
        "significant_subset_pct": "",
        "credit_rule": "tiered",
        "credit_multiplier": "",
        "credit_cap_pct": "",
        "credit_applies_to": "",
        "credit_invoice_kinds": '["subscription"]',
        "support_calendar": str(calendar.pk),
        "support_language": "",
        "support_channels": "",
        "off_hours_severity1_channel": "",
        "unregistered_sender_severity": "",
        "support_notes": "",
        "filing_notice": "",
        "backup_retention_days": "",
        "backup_frequency": "",
        "rpo_hours": "",
        "status_page_url": "",
        **_inline(
            "bands", [{"lower_pct": lo, "upper_pct": up, "credit_pct": cr} for lo, up, cr in bands]
        ),
        **_inline("exclusions", []),
        **_inline("severities", []),
    }


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([("99.5", "", "0"), ("95", "99", "10"), ("0", "95", "50")], "gap"),
        ([("99.5", "", "0"), ("95", "99.6", "10"), ("0", "95", "50")], "overlaps"),
    ],
)
def test_admin_refuses_credit_bands_with_gap_or_overlap(admin_client, calendar, bands, message):
    response = admin_client.post("/admin/contracts/slapolicy/add/", _policy_post(calendar, bands))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert SLAPolicy.objects.count() == 0


def test_admin_saves_a_policy_with_tiling_bands(admin_client, calendar):
    response = admin_client.post(
        "/admin/contracts/slapolicy/add/",
        _policy_post(calendar, [("99.5", "", "0"), ("95", "99.5", "10"), ("0", "95", "50")]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SLAPolicy.objects.get().bands.count() == 3


def _contract_post(customer, policy, service, start, end, fee):
    return {
        "customer": str(customer.pk),
        "policy": str(policy.pk),
        "reference": "ADM-1",
        "start_date": start,
        "end_date": end,
        "terminated_on": "",
        "currency": "USD",
        "support_calendar": "",
        **_inline("lines", [{"service": str(service.pk), "monthly_fee": fee}]),
        **_inline("severities", []),
    }


@pytest.mark.parametrize(
    ("end", "fee", "message"),
    [
        ("2026-02-28", "100.00", "The contract cannot end before it starts."),
        ("", "-5.00", "greater than or equal to 0"),
    ],
)
def test_admin_refuses_bad_contracts_and_saves_nothing(admin_client, catalog, end, fee, message):
    customer, service = CustomerFactory(), ServiceFactory()
    policy = SLAPolicy.objects.get(code="heretto-ccms")
    response = admin_client.post(
        "/admin/contracts/contract/add/",
        _contract_post(customer, policy, service, "2026-03-01", end, fee),
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Contract.objects.count() == 0
    assert ContractLine.objects.count() == 0


def test_admin_shows_a_policy_in_use_read_only(admin_client, catalog):
    policy = SLAPolicy.objects.get(code="balto-uptime")
    ContractFactory(policy=policy)
    page = admin_client.get(f"/admin/contracts/slapolicy/{policy.pk}/change/")
    assert page.status_code == 200
    assert "View SLA policy" in page.content.decode()
    response = admin_client.post(f"/admin/contracts/slapolicy/{policy.pk}/change/", {})
    assert response.status_code == 403
    unused = SLAPolicy.objects.get(code="deploy-scale")
    page = admin_client.get(f"/admin/contracts/slapolicy/{unused.pk}/change/")
    assert "Change SLA policy" in page.content.decode()
