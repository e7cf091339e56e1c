"""Anyone's own profile (/accounts/profile/): the time zone their pages show times in,
and what they are e-mailed about (the desk's alerts: support staff only)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from contracts.services import profile_update
from tests.support.factories import ticket_contract
from tickets.services import ticket_file

pytestmark = pytest.mark.django_db

PROFILE = reverse("profile")
# A fixed instant of summer time in London and New York: 12:05 UTC.
JULY_NOON = datetime(2026, 7, 1, 12, 5, tzinfo=UTC)


def _signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_person_sets_their_time_zone(agent):
    browser = _signed_in(agent)
    page = browser.get(PROFILE).content.decode()
    assert '<option value="UTC" selected>UTC</option>' in page
    assert 'id="id_email_desk_alerts" checked' in page
    response = browser.post(
        PROFILE, {"time_zone": "Europe/London", "email_ticket_updates": "on"}, follow=True
    )
    agent.refresh_from_db()
    assert (agent.time_zone, agent.email_ticket_updates, agent.email_desk_alerts) == (
        "Europe/London",
        True,
        False,  # left unticked
    )
    assert "Saved. Times are now shown in Europe/London." in _text(response)
    assert '<option value="Europe/London" selected>' in response.content.decode()


def test_the_desk_shows_times_in_the_zone_the_profile_sets(agent, catalog, customer_user):
    contract = ticket_contract(customer_user.customer)
    with time_machine.travel(JULY_NOON, tick=False):
        ticket = ticket_file(
            actor=customer_user,
            service=contract.lines.first().service,
            subject="Publishing fails",
            description="Error 500.",
            severity=3,
        )
        browser = _signed_in(agent)
        before = _text(browser.get(reverse("desk-home")))
        assert "Times are shown in UTC" in before and ">1 Jul, 12:05</time>" in before
        browser.post(PROFILE, {"time_zone": "America/New_York"})
        after = _text(browser.get(reverse("desk-home")))
        assert "Times are shown in America/New_York" in after
        assert ">1 Jul, 08:05</time>" in after and "12:05" not in after
        detail = _text(browser.get(reverse("desk-ticket", args=[ticket.pk])))
        assert "08:05" in detail and "12:05" not in detail
        assert "1 Jul 2026, 08:05" in _text(browser.get(PROFILE))  # "it is now …"


def test_an_unknown_zone_is_refused_and_nothing_changes(agent):
    response = _signed_in(agent).post(PROFILE, {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert "Select a valid choice." in _text(response)
    agent.refresh_from_db()
    assert agent.time_zone == "UTC"
    with pytest.raises(ValidationError) as refused:
        profile_update(person=agent, time_zone="Mars/Olympus_Mons", email_ticket_updates=True)
    assert "time_zone" in refused.value.message_dict


def test_a_customer_sets_ticket_updates_but_is_offered_no_desk_alerts(customer_user):
    browser = _signed_in(customer_user)
    page = browser.get(PROFILE).content.decode()
    assert 'name="email_ticket_updates"' in page and "email_desk_alerts" not in page
    # A forged field is ignored: the desk's alerts are not theirs to set.
    browser.post(PROFILE, {"time_zone": "Asia/Tokyo", "email_desk_alerts": ""})
    customer_user.refresh_from_db()
    assert (customer_user.time_zone, customer_user.email_ticket_updates) == ("Asia/Tokyo", False)
    assert customer_user.email_desk_alerts is True  # untouched
    with pytest.raises(ValidationError) as refused:
        profile_update(
            person=customer_user,
            time_zone="UTC",
            email_ticket_updates=True,
            email_desk_alerts=False,
        )
    assert refused.value.message_dict == {
        "email_desk_alerts": ["Desk alerts are for support staff."]
    }


def test_every_signed_in_person_reaches_their_profile_from_the_header(
    agent, operations, account_manager, customer_user, customer_admin
):
    for person in (agent, operations, account_manager, customer_user, customer_admin):
        browser = _signed_in(person)
        assert browser.get(PROFILE).status_code == 200
        home = browser.get(reverse("home"), follow=True).content.decode()
        assert f'<a class="small" href="{PROFILE}">Profile</a>' in home


def test_the_profile_needs_a_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_profile_form_needs_its_csrf_token(agent):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)
    assert browser.post(PROFILE, {"time_zone": "Asia/Tokyo"}).status_code == 403
    agent.refresh_from_db()
    assert agent.time_zone == "UTC"
