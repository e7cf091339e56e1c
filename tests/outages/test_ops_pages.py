"""The operations back office through the Django test client: recording, updating,
closing and editing outages, the outage list's filters, who may open which page, the
staff availability page of a contract."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.models import SLAPolicy
from contracts.services import contract_create
from outages.models import Outage, OutageUpdate
from outages.services import outage_record
from tests.support.factories import CustomerFactory, ServiceFactory
from tests.support.page_helpers import h1, nav_labels

pytestmark = pytest.mark.django_db

ET = ZoneInfo("America/New_York")


@pytest.fixture
def ccms(db):
    return ServiceFactory(name="CCMS", code="ccms")


@pytest.fixture
def crm(db):
    return ServiceFactory(name="CRM", code="crm")


def _contract(name: str, service, code: str = "heretto-ccms"):
    """A customer ``name`` with one contract (from 1 Jan 2026) for ``service``."""
    customer = CustomerFactory(name=name)
    terms = {"policy": SLAPolicy.objects.get(code=code), "start_date": date(2026, 1, 1)}
    lines = [(service, Decimal("1000.00"))]
    return contract_create(customer=customer, reference=name, lines=lines, currency="USD", **terms)


@pytest.fixture
def acme(catalog, ccms):
    return _contract("Acme", ccms).customer


@pytest.fixture
def globex(catalog, crm):
    return _contract("Globex", crm).customer


@pytest.fixture
def ops(client, operations):
    operations.time_zone = "America/New_York"
    operations.save()
    client.force_login(operations)
    return client


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _record(service, start: str, minutes: int | None = None, **kw) -> Outage:
    """An outage from ``start`` (UTC), ``minutes`` long (None: ongoing)."""
    started = _utc(start)
    kw.setdefault("title", "Down")
    kw.setdefault("category", "internal")
    ended = None if minutes is None else started + timedelta(minutes=minutes)
    return outage_record(service=service, started_at=started, ended_at=ended, actor=None, **kw)


def _form(service, **overrides):
    data = dict(title="Editor will not load", service=service.pk, category="internal")
    data.update(started_at="2026-02-10T10:00", ended_at="2026-02-10T11:30", scope="all")
    data.update(description="The editor does not open.", internal_notes="DB failover.")
    return {**data, **overrides}


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# ---------------------------------------------------------------- record, update, close, edit


def test_operations_record_an_outage_read_in_their_own_time_zone(ops, operations, ccms, acme):
    form = _text(ops.get(reverse("ops-outage-new")))
    assert 'type="datetime-local"' in form and "America/New_York" in form
    assert "Internal fault" in form  # causes are offered by their labels
    response = ops.post(reverse("ops-outage-new"), _form(ccms), follow=True)
    outage = Outage.objects.get()
    assert response.request["PATH_INFO"] == reverse("ops-outage", args=[outage.pk])
    assert h1(response) == "Editor will not load"
    # 10:00 in New York in February (EST, UTC−5) is 15:00 UTC.
    assert outage.started_at == _utc("2026-02-10 15:00")
    assert outage.ended_at == _utc("2026-02-10 16:30")
    assert (outage.category, outage.scope, outage.created_by) == ("internal", "all", operations)
    first = OutageUpdate.objects.get(outage=outage)
    assert first.public and first.text == "The editor does not open."
    assert "10 Feb 2026, 10:00 EST" in _text(response)
    ops.post(reverse("ops-outage-new"), _form(ccms, scope="customers", customers=[acme.pk]))
    assert list(Outage.objects.get(scope="customers").customers.all()) == [acme]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ended_at": "2026-02-10T09:00"}, "An outage must end after it starts."),
        ({"started_at": "FUTURE", "ended_at": ""}, "An outage cannot start in the future."),
        ({"category": "gremlins"}, "Select a valid choice."),
        ({"scope": "customers", "customers": "GLOBEX"}, "Globex has no contract for CCMS."),
        ({"scope": "customers"}, "Name at least one customer, or choose every customer."),
        ({"started_at": "2026-03-08T02:30", "ended_at": ""}, "2026-03-08 02:30:00"),
    ],
    ids=["end-before-start", "future", "bogus-category", "stranger", "no-customers", "dst-gap"],
)
def test_bad_input_shows_a_message_and_saves_nothing(ops, ccms, globex, overrides, message):
    if overrides.get("started_at") == "FUTURE":
        later = timezone.now().astimezone(ET) + timedelta(days=1)
        overrides["started_at"] = later.strftime("%Y-%m-%dT%H:%M")
    if overrides.get("customers") == "GLOBEX":
        overrides["customers"] = [globex.pk]
    response = ops.post(reverse("ops-outage-new"), _form(ccms, **overrides))
    assert response.status_code == 200
    assert 'class="form-errors"' in response.content.decode()
    assert message in response.content.decode()
    assert not Outage.objects.exists()


def test_public_and_internal_updates_are_posted_and_told_apart(ops, ccms):
    outage = _record(ccms, "2026-02-10 15:00")
    url = reverse("ops-outage-update", args=[outage.pk])
    ops.post(url, {"text": "Failing over to the standby.", "public": "on"})
    response = ops.post(url, {"text": "Primary disk is full."}, follow=True)
    public, internal = OutageUpdate.objects.filter(outage=outage).order_by("pk")[1:]
    assert (public.text, public.public) == ("Failing over to the standby.", True)
    assert (internal.text, internal.public) == ("Primary disk is full.", False)
    html = _text(response)
    assert "Internal update posted." in html
    assert 'timeline__item--internal"' in html and "Primary disk is full." in html
    assert html.count('class="badge badge--primary">Public') == 2
    blank = ops.post(url, {"text": "  ", "public": "on"})
    assert "This field is required." in blank.content.decode()
    assert OutageUpdate.objects.filter(outage=outage).count() == 3


def test_closing_an_ongoing_outage_ends_it_with_a_public_message(ops, ccms):
    outage = _record(ccms, "2026-02-10 15:00")
    url = reverse("ops-outage-close", args=[outage.pk])
    assert "Close the outage" in ops.get(reverse("ops-outage", args=[outage.pk])).content.decode()
    refused = ops.post(url, {"ended_at": "2026-02-10T09:00"})  # before it started
    assert "An outage must end after it starts." in refused.content.decode()
    assert Outage.objects.get().ended_at is None and outage.updates.count() == 1
    data = {"ended_at": "2026-02-10T12:15", "text": "Back to normal."}
    html = _text(ops.post(url, data, follow=True))
    outage.refresh_from_db()
    assert outage.ended_at == _utc("2026-02-10 17:15")
    assert outage.updates.filter(text="Back to normal.", public=True).exists()
    assert "Resolved" in html and "Close the outage" not in html and "2 h 15 min" in html
    again = ops.post(url, {"ended_at": "2026-02-10T12:30"}, follow=True)  # a stale form
    assert "This outage is already closed." in again.content.decode()


def test_editing_an_outage_changes_it_through_the_form(ops, ccms, acme):
    outage = _record(ccms, "2026-02-10 15:00", 60)
    url = reverse("ops-outage-edit", args=[outage.pk])
    assert 'value="2026-02-10T10:00"' in _text(ops.get(url))  # in the viewer's zone
    refused = ops.post(url, _form(ccms, title="Nope", ended_at="2026-02-10T08:00"))
    assert "An outage must end after it starts." in refused.content.decode()
    assert Outage.objects.get().title == "Down"
    data = _form(ccms, title="Search down", category="third_party", scope="customers")
    response = ops.post(url, {**data, "customers": [acme.pk]}, follow=True)
    outage.refresh_from_db()
    assert (outage.title, outage.category) == ("Search down", "third_party")
    assert list(outage.customers.all()) == [acme]
    assert outage.ended_at == _utc("2026-02-10 16:30")
    assert "Outage saved." in _text(response)


# ---------------------------------------------------------------- the list and its filters


@pytest.fixture
def listed(ccms, crm, acme, globex):
    """Four outages across two services, causes, scopes and months."""
    _record(ccms, "2026-02-10 15:00", 120, title="ccms-feb")
    _record(crm, "2026-03-20 15:00", 60, title="crm-mar", category="third_party")
    _record(ccms, "2026-04-02 15:00", title="ccms-acme", scope="customers", customers=[acme])
    _record(crm, "2026-05-02 15:00", 45, title="crm-globex", scope="customers", customers=[globex])


def _titles(response) -> list[str]:
    return re.findall(r'<a href="/ops/outages/\d+/">([^<]+)</a>', response.content.decode())


def test_the_list_shows_every_outage_newest_first(ops, listed):
    response = ops.get(reverse("ops-home"))
    assert h1(response) == "Outages"
    assert _titles(response) == ["crm-globex", "ccms-acme", "crm-mar", "ccms-feb"]
    html = _text(response)
    assert "Third-party app or provider" in html
    assert "Acme" in html and "All customers" in html
    assert "10 Feb 2026, 10:00" in html  # 15:00 UTC in the viewer's New York time
    assert "2 h" in html and "45 min" in html
    assert html.count('badge--danger">Ongoing') == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"service": "CRM"}, ["crm-globex", "crm-mar"]),
        ({"category": "third_party"}, ["crm-mar"]),
        ({"customer": "Acme"}, ["ccms-acme", "ccms-feb"]),
        ({"customer": "Globex"}, ["crm-globex", "crm-mar"]),
        ({"status": "ongoing"}, ["ccms-acme"]),
        ({"status": "resolved"}, ["crm-globex", "crm-mar", "ccms-feb"]),
        ({"started_from": "2026-03-20", "started_to": "2026-04-02"}, ["ccms-acme", "crm-mar"]),
        ({"started_to": "2026-02-10"}, ["ccms-feb"]),
    ],
)
def test_filters_narrow_the_list(ops, listed, ccms, crm, acme, globex, query, expected):
    ids = {"CRM": crm.pk, "CCMS": ccms.pk, "Acme": acme.pk, "Globex": globex.pk}
    params = {key: ids.get(value, value) for key, value in query.items()}
    assert _titles(ops.get(reverse("ops-home"), params)) == expected


def test_an_empty_list_says_why_and_what_to_do(ops, ccms):
    html = _text(ops.get(reverse("ops-home")))
    assert "No outages recorded yet." in html and reverse("ops-outage-new") in html
    _record(ccms, "2026-02-10 15:00")
    html = _text(ops.get(reverse("ops-home"), {"category": "beta_feature"}))
    assert "No outages match these filters." in html and "Clear filters" in html


def test_the_list_pages_by_25_and_keeps_its_filters(ops, ccms):
    for n in range(27):
        _record(ccms, f"2026-01-{n + 1:02d} 10:00", 60, title=f"o{n:02d}")
    first = ops.get(reverse("ops-home"), {"service": ccms.pk})
    assert len(_titles(first)) == 25
    assert f"?service={ccms.pk}&amp;page=2" in first.content.decode()
    second = ops.get(reverse("ops-home"), {"service": ccms.pk, "page": 2})
    assert _titles(second) == ["o01", "o00"]


def test_the_list_costs_the_same_queries_for_many_outages(ops, ccms, acme):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            ops.get(reverse("ops-home"))
        return len(ctx.captured_queries)

    _record(ccms, "2026-02-01 10:00", scope="customers", customers=[acme])
    few = count()
    for n in range(2, 11):
        _record(ccms, f"2026-02-{n:02d} 10:00", scope="customers", customers=[acme])
    assert count() == few


# ---------------------------------------------------------------- who may open what


def _ops_urls(outage) -> list[tuple[str, str]]:
    names = ["ops-outage", "ops-outage-edit", "ops-outage-update", "ops-outage-close"]
    urls = [reverse("ops-home"), reverse("ops-outage-new")]
    urls += [reverse(name, args=[outage.pk]) for name in names]
    return [("post" if url.endswith(("/updates/", "/close/")) else "get", url) for url in urls]


@pytest.mark.parametrize("role", ["customer_user", "customer_admin", "agent", "account_manager"])
def test_outage_pages_are_closed_to_everyone_but_operations(client, request, ccms, role):
    outage = _record(ccms, "2026-02-10 15:00")
    client.force_login(request.getfixturevalue(role))
    for method, url in _ops_urls(outage):
        assert getattr(client, method)(url, {"text": "x"}).status_code == 403, url
    assert OutageUpdate.objects.count() == 1


def test_anonymous_visitors_sign_in_first_and_admins_get_in(client, admin_user, ccms):
    urls = [url for _, url in _ops_urls(_record(ccms, "2026-02-10 15:00"))]
    for url in urls:
        assert client.get(url)["Location"].startswith("/accounts/login/"), url
    client.force_login(admin_user)
    for url in urls[:4]:
        assert client.get(url).status_code == 200, url


def test_an_unknown_outage_or_contract_is_a_404(ops):
    for name in ("ops-outage", "ops-outage-edit", "ops-contract-availability"):
        assert ops.get(reverse(name, args=[999])).status_code == 404


# ---------------------------------------------------------------- availability


def _availability(client, contract, month=None):
    url = reverse("ops-contract-availability", args=[contract.pk])
    return client.get(url, {"month": month} if month else {})


def test_availability_shows_a_tiered_months_figures(ops, ccms, acme):
    # heretto-ccms: 24x7 in New York, all minutes of the month, downtime from detection.
    outage = _record(ccms, "2026-02-10 15:00", 90, title="Editor outage")
    _record(ccms, "2026-02-13 15:00", 120, title="Upgrade", category="scheduled_maintenance")
    html = _text(_availability(ops, acme.contracts.get(), "2026-02"))
    # February 2026 has 28 × 1440 = 40,320 minutes; the 2 h window is taken out of them:
    # (40,200 − 90) / 40,200 = 99.7761… %, shown rounded down to three places.
    assert '<span class="figure__value" data-testid="downtime-minutes">90</span>' in html
    assert 'denominator-minutes">40,200</span>' in html and 'removed-minutes">120</span>' in html
    assert 'data-testid="availability-display">99.776 %</span>' in html
    assert f'href="/ops/outages/{outage.pk}/">Editor outage</a>' in html
    assert "90 min" in html and "Upgrade" in html and "removed from the month" in html
    assert 'role="img"' in html and "<title id=" in html and "Target 99.500 % met" in html
    assert "90 minutes of downtime over 1 day; most on 10 February (90 min)." in html
    assert '<th scope="row">10 February 2026</th><td>90</td>' in html
    assert "?month=2026-01" in html and "?month=2026-03" in html


def test_availability_of_a_multiplier_contract_counts_from_confirmation(ops, catalog, ccms):
    # balto-uptime: only 06:00–21:00 Chicago counts, from confirmation; all month's minutes.
    contract = _contract("Initech", ccms, code="balto-uptime")
    # 10:00–11:30 in Chicago, confirmed at 10:30: an hour counts.
    _record(ccms, "2026-02-10 16:00", 90, confirmed_at=_utc("2026-02-10 16:30"))
    _record(ccms, "2026-02-11 16:00", 60, title="Phone vendor", category="third_party")
    html = _text(_availability(ops, contract, "2026-02"))
    # (40,320 − 60) / 40,320 = 99.8511… %
    assert 'downtime-minutes">60</span>' in html and 'denominator-minutes">40,320</span>' in html
    assert 'data-testid="availability-display">99.851 %</span>' in html
    assert "counted from confirmation" in html
    assert "Phone vendor" in html and "permitted downtime under the policy" in html


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "&#x27;2026-13&#x27; is not a month: 13 is not 01–12."),
        ("last-month", "is not a month; use YYYY-MM"),
        ("FUTURE", "has not started yet in America/New_York"),
    ],
)
def test_a_bad_or_future_month_is_a_400_with_a_message(ops, acme, month, message):
    if month == "FUTURE":
        month = f"{timezone.now().year + 1}-01"
    response = _availability(ops, acme.contracts.get(), month)
    assert response.status_code == 400 and message in response.content.decode()


def test_availability_defaults_to_the_current_month_in_the_policy_zone(ops, acme):
    now = timezone.now().astimezone(ET)
    response = _availability(ops, acme.contracts.get())
    assert h1(response) == f"Availability in {now:%B %Y}"
    assert "Month in progress" in response.content.decode()
    before = _text(_availability(ops, acme.contracts.get(), "2025-12"))
    assert "Not active in December 2025" in before


@pytest.mark.parametrize(
    ("role", "status"),
    [("agent", 200), ("account_manager", 200), ("customer_user", 403), ("customer_admin", 403)],
)
def test_who_may_read_contract_availability(client, request, acme, role, status):
    client.force_login(request.getfixturevalue(role))
    assert _availability(client, acme.contracts.get(), "2026-02").status_code == status
    assert client.get(reverse("ops-contracts")).status_code == status


def test_the_contracts_index_links_each_contract_and_searches(ops, acme, globex):
    response = ops.get(reverse("ops-contracts"))
    assert nav_labels(response) == ["Outages", "Availability", "Statements", "SLA report"]
    html = _text(response)
    for contract in (acme.contracts.get(), globex.contracts.get()):
        assert reverse("ops-contract-availability", args=[contract.pk]) in html
    found = _text(ops.get(reverse("ops-contracts"), {"q": "glob"}))
    assert "Globex" in found and "Acme" not in found
    assert "No contract matches" in _text(ops.get(reverse("ops-contracts"), {"q": "zzz"}))
