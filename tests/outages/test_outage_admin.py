"""The outage admin: it refuses what the services refuse, and a change to a past month
asks for that month's statement to be re-issued, as the services do."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import SLAPolicy
from contracts.services import contract_create
from outages.models import Outage, ReissueRequest
from tests.support.factories import CustomerFactory, ServiceFactory


@pytest.fixture
def ccms(db):
    return ServiceFactory(name="CCMS", code="ccms")


@pytest.fixture
def globex(catalog):
    crm = ServiceFactory(name="CRM", code="crm")
    customer = CustomerFactory(name="Globex")
    contract_create(
        customer=customer,
        policy=SLAPolicy.objects.get(code="heretto-ccms"),
        reference="G-1",
        start_date=date(2026, 1, 1),
        currency="USD",
        lines=[(crm, Decimal("1000.00"))],
    )
    return customer


def test_the_admin_refuses_what_the_services_refuse(client, admin_user, ccms, globex):
    client.force_login(admin_user)
    data = dict(service=ccms.pk, title="Down", category="internal", scope="customers")
    data.update(customers=[globex.pk], started_at_0="2026-02-10", started_at_1="10:00")
    data.update(ended_at_0="2026-02-10", ended_at_1="09:00")
    data.update({"updates-TOTAL_FORMS": 0, "updates-INITIAL_FORMS": 0})
    html = client.post(reverse("admin:outages_outage_add"), data).content.decode()
    assert "An outage must end after it starts." in html
    assert "Globex has no contract for CCMS." in html and not Outage.objects.exists()
    data.update(scope="all", customers=[], ended_at_1="11:30")
    assert client.post(reverse("admin:outages_outage_add"), data).status_code == 302
    assert Outage.objects.get().created_by == admin_user
    for name in ("admin:outages_outage_changelist", "admin:outages_reissuerequest_changelist"):
        assert client.get(reverse(name)).status_code == 200


def test_an_admin_edit_of_a_past_month_asks_for_reissue(client, admin_user, catalog, ccms):
    acme = CustomerFactory(name="Acme")
    contract_create(
        customer=acme,
        policy=SLAPolicy.objects.get(code="heretto-ccms"),
        reference="A-1",
        start_date=date(2026, 1, 1),
        currency="USD",
        lines=[(ccms, Decimal("1000.00"))],
    )
    client.force_login(admin_user)
    data = dict(service=ccms.pk, title="Down", category="internal", scope="all")
    data.update(started_at_0="2026-02-10", started_at_1="10:00")
    data.update(ended_at_0="2026-02-10", ended_at_1="11:00")
    data.update({"updates-TOTAL_FORMS": 0, "updates-INITIAL_FORMS": 0})
    assert client.post(reverse("admin:outages_outage_add"), data).status_code == 302
    assert list(ReissueRequest.objects.values_list("month", flat=True)) == [date(2026, 2, 1)]
    outage = Outage.objects.get()
    data.update(started_at_0="2026-03-10", ended_at_0="2026-03-10")
    change = reverse("admin:outages_outage_change", args=[outage.pk])
    assert client.post(change, data).status_code == 302
    months = sorted(ReissueRequest.objects.values_list("month", flat=True))
    assert months == [date(2026, 2, 1), date(2026, 3, 1)]
