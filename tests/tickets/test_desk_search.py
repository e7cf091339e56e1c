"""The desk's search (``?q=``): a ticket by its reference, the words of its subject, its
requester's name or e-mail, its customer's name, and any message of its thread (the
third one included; internal notes for staff). Full-text search with GIN indexes on
PostgreSQL, part of the text on SQLite: every test here runs on either."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse

from tests.support.factories import CustomerFactory, CustomerUserFactory, ticket_contract
from tickets import search
from tickets.models import Ticket
from tickets.queue_forms import QueueFilterForm
from tickets.search import ticket_ids_matching
from tickets.services import ticket_file, ticket_reply, ticket_set_status
from tickets.views.desk import _queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True, params=["rare", "common"])
def plan(request, monkeypatch):
    """Every search both ways (tickets.search): the union of the few matching ids, and
    the walk through the queue that a word in a tenth of the messages takes."""
    monkeypatch.setattr(search, "_common", lambda messages: request.param == "common")
    return request.param


def _file(person, subject: str, severity: int = 3) -> Ticket:
    service = person.customer.contracts.get().lines.first().service
    return ticket_file(
        actor=person,
        service=service,
        subject=subject,
        description="It stopped working this morning.",
        severity=severity,
    )


@pytest.fixture
def world(catalog, agent):
    """Two customers' tickets; the first one's third message names the zeppelin cache,
    the second has an internal note about a quasar."""
    acme = CustomerFactory(name="Acme Logistics")
    ticket_contract(acme)
    pat = CustomerUserFactory(
        customer=acme, first_name="Pat", last_name="Caller", email="pat.caller@example.test"
    )
    zeta = CustomerFactory(name="Zeta Foods")
    ticket_contract(zeta, reference="ZETA-1")
    kim = CustomerUserFactory(customer=zeta, first_name="Kim", last_name="Baker")
    publishing = _file(pat, "Publishing fails", severity=2)
    ticket_reply(ticket=publishing, actor=agent, body="Looking into it now.")
    ticket_reply(ticket=publishing, actor=pat, body="Here is the log you asked for.")
    ticket_reply(ticket=publishing, actor=agent, body="Found it: the zeppelin cache was full.")
    exports = _file(kim, "Slow exports")
    ticket_reply(ticket=exports, actor=agent, body="Ask ops about the quasar job.", public=False)
    login = _file(pat, "Cannot sign in")
    return {"publishing": publishing, "exports": exports, "login": login, "pat": pat}


def _found(desk, **query) -> list[str]:
    html = desk.get(reverse("desk-home"), query).content.decode()
    return sorted(re.findall(r'<a href="/desk/tickets/\d+/">([^<]+)</a>', html))


def test_a_ticket_is_found_by_its_reference(desk, world):
    ticket = world["exports"]
    assert _found(desk, q=ticket.reference) == ["Slow exports"]
    assert _found(desk, q=ticket.reference.lower()) == ["Slow exports"]
    assert _found(desk, q=str(ticket.pk)) == ["Slow exports"]  # the bare number too


def test_a_ticket_is_found_by_a_word_of_its_subject(desk, world):
    assert _found(desk, q="publishing") == ["Publishing fails"]
    assert _found(desk, q="  EXPORTS ") == ["Slow exports"]


def test_a_ticket_is_found_by_its_requesters_name_or_e_mail(desk, world):
    assert _found(desk, q="Pat Caller") == ["Cannot sign in", "Publishing fails"]
    assert _found(desk, q="pat.caller@example.test") == ["Cannot sign in", "Publishing fails"]
    assert _found(desk, q="baker") == ["Slow exports"]


def test_a_ticket_is_found_by_its_customers_name(desk, world):
    assert _found(desk, q="zeta") == ["Slow exports"]
    assert _found(desk, q="Acme Logistics") == ["Cannot sign in", "Publishing fails"]


def test_a_ticket_is_found_by_a_word_of_its_third_message(desk, world):
    thread = list(world["publishing"].messages.order_by("created_at", "pk"))
    assert "zeppelin" in thread[2].body and not any("zeppelin" in m.body for m in thread[:2])
    assert _found(desk, q="zeppelin") == ["Publishing fails"]


def test_staff_find_the_words_of_internal_notes_and_customers_do_not(world, agent):
    note_word = "quasar"
    assert list(ticket_ids_matching(note_word, user=agent)) == [{"pk": world["exports"].pk}]
    assert not list(ticket_ids_matching(note_word, user=world["pat"]))
    # A customer's search still reads the public messages.
    assert list(ticket_ids_matching("zeppelin", user=world["pat"])) == [
        {"pk": world["publishing"].pk}
    ]


def test_the_desk_finds_internal_notes(desk, world):
    assert _found(desk, q="quasar") == ["Slow exports"]


def test_a_search_keeps_the_other_filters_and_finds_nothing_else(desk, world):
    assert _found(desk, q="Pat Caller", severity="2") == ["Publishing fails"]
    assert _found(desk, q="nothing-like-this") == []
    page = desk.get(reverse("desk-home"), {"q": "nothing-like-this"}).content.decode()
    assert "No open tickets match this search." in page


def test_a_search_of_open_tickets_offers_every_status_when_it_finds_none(desk, world, agent):
    ticket_set_status(ticket=world["exports"], status="resolved", actor=agent)
    assert _found(desk, q="quasar") == []
    page = desk.get(reverse("desk-home"), {"q": "quasar"}).content.decode()
    assert 'href="?q=quasar&amp;status=all"' in page
    assert _found(desk, q="quasar", status="all") == ["Slow exports"]


def test_the_search_box_is_on_the_queue(desk, world):
    page = desk.get(reverse("desk-home"), {"q": "zeppelin"}).content.decode()
    assert 'type="search" name="q" value="zeppelin"' in page


def test_words_match_as_the_database_searches_text(desk, world):
    """PostgreSQL: whole words, stemmed ("exported" finds "exports"); SQLite: part of
    the text ("zeppel" finds "zeppelin")."""
    if connection.vendor == "postgresql":
        assert _found(desk, q="exported") == ["Slow exports"]
        assert _found(desk, q='"zeppelin cache"') == ["Publishing fails"]  # a phrase
        assert _found(desk, q="zeppel") == []
    else:
        assert _found(desk, q="zeppel") == ["Publishing fails"]


def _explain(sql_queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as if the tables were large
    return sql_queryset.explain()


def test_the_search_reads_the_full_text_indexes(postgres, world, agent, plan):
    form = QueueFilterForm({"q": "zeppelin", "status": "all"})
    queryset = form.apply(_queue(agent, form.statuses(), form.sort_key()), user=agent)
    walk, plan = plan == "common", _explain(queryset[:26])
    if walk:  # a common word: the queue in its order, each ticket's words checked
        assert "ticket_message_search_idx" not in plan, plan
        assert not re.search(r"Seq Scan on tickets_ticket\b", plan), plan
        return
    assert "ticket_message_search_idx" in plan, plan
    assert "ticket_text_search_idx" in plan, plan
    assert not re.search(r"Seq Scan on tickets_ticket(message)?\b", plan), plan


def test_postgresql_s_estimate_tells_a_common_word_from_a_rare_one(
    postgres, world, agent, monkeypatch
):
    """A word in most messages takes the walk; a word of one message in thirty, the
    union of ids (tickets.search._common, from the statistics ANALYZE gathers)."""
    monkeypatch.undo()
    for n in range(30):
        ticket_reply(ticket=world["login"], actor=agent, body=f"Still looking at it ({n}).")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticketmessage")
    assert search._common(search._matching_messages("looking", agent)) is True
    assert search._common(search._matching_messages("the zeppelin", agent)) is False


def test_a_search_pages_like_the_queue(desk, world, agent):
    for n in range(27):
        ticket = _file(world["pat"], f"Export {n:02d} fails")
        ticket_reply(ticket=ticket, actor=agent, body=f"Checked: the zeppelin queue, take {n}.")
    html = desk.get(reverse("desk-home"), {"q": "zeppelin"}).content.decode()
    first = re.findall(r'<a href="/desk/tickets/\d+/">([^<]+)</a>', html)
    assert len(first) == 25 and "28 tickets" in html
    following = re.search(r'href="\?([^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    rest = re.findall(
        r'<a href="/desk/tickets/\d+/">([^<]+)</a>',
        desk.get(f"/desk/?{following}").content.decode(),
    )
    assert len(rest) == 3 and not set(first) & set(rest)
    assert "Publishing fails" in first + rest
