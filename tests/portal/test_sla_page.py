"""The customer's SLA page (/portal/sla/): each contract in force with the terms of its
own policy version — availability target, credit rule (bands, or multiplier and cap),
support hours and holidays, severity targets, backup retention, RPO, status page — never
another customer's contract; and the statement PDF's link to it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from contracts.models import SLAPolicy
from contracts.services import SeveritySpec, policy_upsert
from statements.pdf import render_statement_pdf
from statements.services import statement_generate
from tests.support.factories import CustomerFactory, CustomerUserFactory, catalog_contract
from tests.support.page_helpers import h1
from tests.support.pdf import pdf_text

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _version_2(code: str) -> SLAPolicy:
    """The next version of a catalog policy: a higher target, shorter severity 2 response,
    longer backups."""
    v1 = SLAPolicy.objects.get(code=code, version=1)
    fields = [f.name for f in SLAPolicy._meta.concrete_fields if f.name != "id"]
    terms = {name: getattr(v1, name) for name in fields}
    terms |= {
        "version": 2,
        "target_availability": Decimal("99.900"),
        "backup_retention_days": 30,
        "rpo_hours": 4,
    }
    severities = [
        SeveritySpec(
            s.severity,
            s.name,
            s.description,
            s.around_the_clock,
            (60, "minutes") if s.severity == 2 else (s.response_value, s.response_unit),
            (s.resolution_value, s.resolution_unit),
        )
        for s in v1.severities.all()
    ]
    bands = [(b.lower_pct, b.upper_pct, b.credit_pct) for b in v1.bands.all()]
    return policy_upsert(terms=terms, bands=bands, severities=severities)


@pytest.fixture
def person(catalog, customer):
    catalog_contract(customer, "heretto-ccms", {"Heretto CCMS": "4000.00"}, reference="C-TIERED")
    catalog_contract(customer, "balto-uptime", {"Balto Platform": "3000.00"}, reference="C-MULTI")
    catalog_contract(
        customer,
        "heretto-ccms",
        {"Old CCMS": "10.00"},
        reference="C-ENDED",
        end_date=date(2026, 5, 31),
    )
    # A later version, and another customer's contract under it.
    _version_2("heretto-ccms")
    other = CustomerFactory(name="Foreign Co")
    catalog_contract(other, "heretto-ccms", {"Foreign CCMS": "1.00"}, reference="C-FOREIGN")
    return CustomerUserFactory(customer=customer)


def _sections(html: str) -> dict[str, str]:
    """Each contract's card by its reference."""
    parts = html.split('data-testid="sla-contract"')[1:]
    return {part.split("Contract ", 1)[1].split("<", 1)[0]: part for part in parts}


def test_each_contract_shows_the_terms_of_its_own_policy_version(client, person):
    client.force_login(person)
    response = client.get(reverse("portal-sla"))
    assert response.status_code == 200 and h1(response) == "Your SLA"
    cards = _sections(response.content.decode())
    assert set(cards) == {"C-TIERED", "C-MULTI"}  # in force today; not another's, not ended

    tiered = cards["C-TIERED"]
    assert "Heretto CCMS SLA" in tiered and "version 1" in tiered
    assert '<dd data-testid="sla-target">99.500 % per month</dd>' in tiered
    assert "99.900" not in tiered  # version 2's target is not this contract's
    for band, credit in [
        ("99.500 % or more", "No credit"),
        ("at least 98.000 % and below 99.500 %", "5 % of the monthly fee"),
        ("at least 95.000 % and below 98.000 %", "10 % of the monthly fee"),
        ("at least 90.000 % and below 95.000 %", "35 % of the monthly fee"),
        ("below 90.000 %", "50 % of the monthly fee"),
    ]:
        assert f"<tr><td>{band}</td><td>{credit}</td></tr>" in tiered
    assert "Heretto Help Desk, 3am–8pm ET Mon–Fri, US federal holidays" in tiered
    assert '<th scope="row">Monday</th><td>03:00–20:00</td>' in tiered
    assert '<th scope="row">Saturday</th><td>Closed</td>' in tiered
    assert "Friday 19 June 2026 — Juneteenth National Independence Day" in tiered
    assert "US public holidays" in tiered
    assert "1 — Product unusable or data loss" in tiered
    sev1 = tiered.split("1 — Product unusable")[1].split("</tr>")[0]
    assert ["30 minutes", "8 hours", "Around the clock"] == _cells(sev1)
    sev2 = tiered.split("2 — Critical business process blocked")[1].split("</tr>")[0]
    assert ["4 hours", "2 business days", "Support hours"] == _cells(sev2)
    sev4 = tiered.split("4 — Intermittent or minor")[1].split("</tr>")[0]
    assert _cells(sev4) == ["48 hours", "No target", "Support hours"]
    assert '<dd data-testid="sla-backup">14 days (daily backups)</dd>' in tiered
    assert '<dd data-testid="sla-rpo">24 hours</dd>' in tiered
    assert f'href="{reverse("status-page")}"' in tiered

    multiplier = cards["C-MULTI"]
    assert "Balto Uptime Commitment" in multiplier
    assert "sla-bands" not in multiplier
    assert (
        "10 × what you paid for the downtime in excess of the commitment, capped at 30 % of "
        "the month's fee."
    ) in multiplier
    assert "Your order form sets no support hours" in multiplier
    assert '<dd data-testid="sla-backup">Not stated in your SLA</dd>' in multiplier
    assert '<dd data-testid="sla-rpo">Not stated in your SLA</dd>' in multiplier
    assert 'href="https://status.balto.ai/"' in multiplier
    assert "Foreign Co" not in response.content.decode()


def _cells(row_html: str) -> list[str]:
    return [cell.split("</td>")[0] for cell in row_html.split("<td>")[1:]]


def test_the_page_is_the_customers_and_linked_from_their_home(client, person, agent):
    client.force_login(person)
    home = client.get(reverse("portal-home")).content.decode()
    assert f'href="{reverse("portal-sla")}"' in home
    client.force_login(agent)
    assert client.get(reverse("portal-sla")).status_code == 403


def test_a_customer_with_no_contract_in_force_is_told_so(client, customer):
    client.force_login(CustomerUserFactory(customer=customer))
    html = client.get(reverse("portal-sla")).content.decode()
    assert "No contract of yours is in force today" in html


def test_the_statement_pdf_links_to_the_sla_page(june_contract):
    statement = statement_generate(contract=june_contract, month=date(2026, 6, 1), now=NOW)
    content = render_statement_pdf(statement)
    url = f"{settings.PORTAL_URL}{reverse('portal-sla')}"
    assert url in pdf_text(content)
    links = [
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(io.BytesIO(content)).pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    ]
    assert url in links
