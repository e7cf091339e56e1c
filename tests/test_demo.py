"""`make demo` builds its data with `manage.py demo`: idempotent, one login per role."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from contracts.demo import DEMO_PASSWORD, demo_build
from contracts.models import Contract, Customer, Invoice, User

HOMES = {
    "agent": "/desk/",
    "operations": "/ops/",
    "account_manager": "/am/",
    "admin": "/backoffice/",
    "customer_admin": "/portal/",
    "customer_user": "/portal/",
}


@pytest.fixture
def demo(catalog):
    return demo_build()


def test_demo_has_three_customers_on_different_plans(demo):
    plans = set(Contract.objects.values_list("policy__code", flat=True))
    assert Customer.objects.count() == 3
    assert plans == {"heretto-ccms", "heretto-enterprise", "balto-uptime"}
    assert {login.role for login in demo} == set(HOMES)


def test_running_the_demo_again_changes_nothing(demo, capsys):
    counts = (User.objects.count(), Contract.objects.count(), Invoice.objects.count())
    call_command("demo")
    assert (User.objects.count(), Contract.objects.count(), Invoice.objects.count()) == counts
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    assert "admin@acme.example" in out


def test_every_demo_login_lands_on_its_role_home(client, demo):
    for login in demo:
        client.logout()
        response = client.post(
            "/accounts/login/",
            {"username": login.username, "password": DEMO_PASSWORD},
            follow=True,
        )
        assert response.redirect_chain[-1][0] == HOMES[login.role], login.username


def test_the_multiplier_customer_has_order_form_support_terms(demo):
    contract = Contract.objects.get(policy__code="balto-uptime")
    assert contract.support_calendar.code == "initech-order-form-support"
    assert contract.severities.get(severity=1).response_value == 60
    assert contract.invoices.filter(paid_at__isnull=True).count() == 1


def test_demo_replays_three_months_of_outages_once_without_reopening_months(demo):
    from datetime import date

    from django.utils import timezone

    from outages.demo import demo_outages
    from outages.models import Outage, ReissueRequest

    operator = User.objects.get(username="ops@provider.example")
    made = demo_outages(today=date(2026, 11, 22), operator=operator)
    assert made == 9
    assert demo_outages(today=date(2026, 11, 22), operator=operator) == 0
    assert Outage.objects.filter(ended_at__isnull=True).count() == 0
    assert ReissueRequest.objects.count() == 0
    assert Outage.objects.filter(started_at__gte=timezone.now()).count() == 0


def test_account_managers_reach_each_contracts_availability_from_their_home(client, demo):
    from django.urls import reverse

    client.post("/accounts/login/", {"username": "am@provider.example", "password": DEMO_PASSWORD})
    home = client.get("/am/").content.decode()
    for contract in Contract.objects.all():
        link = reverse("ops-contract-availability", args=[contract.pk])
        assert link in home
        assert client.get(link).status_code == 200
    portal = client.get("/portal/")
    assert portal.status_code == 403
