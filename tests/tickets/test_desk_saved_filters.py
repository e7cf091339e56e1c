"""An agent's saved filters: the queue's search, filters and sort kept under a name,
opened from the queue and deleted there; each agent's own (another's is a 404)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.support.factories import StaffFactory
from tickets.models import SavedFilter

pytestmark = pytest.mark.django_db

QUEUE = reverse("desk-home")


def _save(desk, query: str, name: str):
    return desk.post(f"{QUEUE}?{query}" if query else QUEUE, {"name": name})


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_an_agent_saves_the_queue_s_search_filters_and_sort_under_a_name(desk, agent):
    response = _save(desk, "q=export&severity=1&sort=newest&after=abc&customer=", "Urgent exports")
    assert response.status_code == 302
    # The search, filters and sort, not the page it was on nor the empty fields.
    assert response["Location"] == f"{QUEUE}?q=export&severity=1&sort=newest"
    saved = SavedFilter.objects.get()
    assert (saved.user, saved.name, saved.query) == (
        agent,
        "Urgent exports",
        response["Location"].split("?")[1],
    )
    assert saved.created_at == timezone.now()
    page = _text(desk.get(response["Location"]))
    assert "Saved this search as “Urgent exports”." in page
    assert f'<a href="{QUEUE}?saved={saved.pk}">Urgent exports</a>' in page


def test_opening_a_saved_filter_shows_the_queue_with_it(desk, agent):
    saved = SavedFilter.objects.create(
        user=agent, name="Mine", query="assignee=me&status=all", created_at=timezone.now()
    )
    response = desk.get(QUEUE, {"saved": saved.pk})
    assert (response.status_code, response["Location"]) == (302, f"{QUEUE}?assignee=me&status=all")


def test_an_agent_deletes_a_saved_filter(desk, agent):
    saved = SavedFilter.objects.create(
        user=agent, name="Old", query="severity=2", created_at=timezone.now()
    )
    response = desk.post(f"{QUEUE}?severity=2", {"delete": saved.pk})
    assert (response.status_code, response["Location"]) == (302, f"{QUEUE}?severity=2")
    assert not SavedFilter.objects.exists()
    assert "Deleted the saved filter “Old”." in _text(desk.get(response["Location"]))


def test_another_agent_s_saved_filter_is_a_404_to_open_or_delete(desk):
    colleague = StaffFactory(role="agent")
    theirs = SavedFilter.objects.create(
        user=colleague, name="Theirs", query="severity=1", created_at=timezone.now()
    )
    assert desk.get(QUEUE, {"saved": theirs.pk}).status_code == 404
    assert desk.post(QUEUE, {"delete": theirs.pk}).status_code == 404
    assert desk.get(QUEUE, {"saved": "nine"}).status_code == 404
    assert desk.post(QUEUE, {"delete": "1; drop"}).status_code == 404
    assert SavedFilter.objects.filter(pk=theirs.pk).exists()
    assert "Theirs" not in _text(desk.get(QUEUE))  # nor listed


def test_the_same_name_twice_is_refused_in_words(desk, agent):
    SavedFilter.objects.create(
        user=agent, name="Urgent", query="severity=1", created_at=timezone.now()
    )
    response = _save(desk, "severity=2", "  urgent ")
    assert response.status_code == 200
    page = _text(response)
    assert "You already have a saved filter named “urgent”." in page
    assert 'name="name" value="  urgent "' in response.content.decode()  # as typed
    assert SavedFilter.objects.count() == 1
    # Another agent may use the name.
    colleague = StaffFactory(role="agent")
    other = Client()
    other.force_login(colleague)
    assert _save(other, "severity=2", "Urgent").status_code == 302


def test_an_empty_name_or_nothing_to_save_is_refused_in_words(desk):
    assert "Give the filter a name." in _text(_save(desk, "severity=1", "   "))
    assert "Search, filter or sort the queue first, then save it." in _text(_save(desk, "", "All"))
    assert not SavedFilter.objects.exists()


def test_saving_needs_the_form_s_csrf_token(agent):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)
    assert browser.post(f"{QUEUE}?severity=1", {"name": "No token"}).status_code == 403
    page = browser.get(f"{QUEUE}?severity=1").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    saved = browser.post(
        f"{QUEUE}?severity=1", {"name": "With token", "csrfmiddlewaretoken": token}
    )
    assert saved.status_code == 302
    assert SavedFilter.objects.get().name == "With token"


def test_only_the_desk_s_people_save_filters(client, customer_user, operations):
    assert client.post(QUEUE, {"name": "x"})["Location"].startswith(reverse("login"))
    for person in (customer_user, operations):
        client.force_login(person)
        assert client.post(f"{QUEUE}?severity=1", {"name": "x"}).status_code == 403
    assert not SavedFilter.objects.exists()
