"""Every HTML page of the portal × every role × the caller's own customer and another
customer: the answer each must get. The pages come from the URL conf (the REST API has
its own matrix, test_authority_matrix.py), so a new page without a row in ``RULES`` (page_rules.py)
fails ``test_every_page_has_a_rule``.

Roles: an anonymous visitor; a customer's person and admin (of the own customer); a
support agent; operations; an account manager of the own customer only; an
administrator. What an answer means (tests/support/page_matrix.py):
- ``ok``: the page (200, or the redirect its rule documents); an action (POST) past the
  authority checks;
- ``403``: the role may not; ``404``: the object is not among those the caller may see;
- ``login``: an anonymous visitor is sent to the login page.
No answer is a server error. A page whose path (or form) names a customer's object is
asked for the own customer's object and the other's. Each request runs in a transaction
rolled back after it, against one set of data built once for the module, at one fixed
instant, with the second factor on as in production (the matrix's account managers and
administrators have given theirs).
"""

from __future__ import annotations

import functools

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import URLResolver, include, path
from django.urls.resolvers import RoutePattern

from tests.slaportal.page_rules import RULES
from tests.support.page_matrix import (
    NOW,
    OK,
    ROLES,
    ask,
    build_world,
    cases,
    html_pages,
    meets,
    missing_rules,
    signed_in,
    stale_rules,
)

# Each test nests in the module's transaction (see ``world``) as a savepoint of its own.
pytestmark = pytest.mark.django_db


@functools.cache
def pages():
    return html_pages()


# ---------------------------------------------------------------- the table is complete


def test_every_page_has_a_rule():
    assert missing_rules(pages(), RULES) == [], "add a row to RULES for each"
    assert stale_rules(pages(), RULES) == [], "a rule for a page that is gone"


def _view(request):
    raise AssertionError("never called")


def test_a_new_page_without_a_rule_is_named_and_the_api_and_admin_are_not_pages():
    fake = URLResolver(
        RoutePattern(""),
        [
            path("portal/", include([path("reports/<int:report_id>/", _view, name="new")])),
            path("api/v1/reports/", _view, name="reports-list"),
            path("admin/reports/", _view, name="admin-reports"),
            path("status/", _view, name="status-page"),
        ],
    )
    found = html_pages(fake)
    assert sorted(found) == ["new", "status-page"]
    assert found["new"].route == "portal/reports/<int:report_id>/"
    assert found["new"].parameters == ["report_id"]
    assert missing_rules(found, RULES) == ["new"]


# ---------------------------------------------------------------- the world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One set of data for the module, built at NOW in a transaction rolled back at the
    end; each request nests in it as a savepoint. A statement's or credit note's PDF is
    rendered for real once, then served from memory (WeasyPrint takes a second each)."""
    from credits.pdf import render_credit_note_pdf
    from credits.services import documents
    from statements.pdf import render_statement_pdf
    from statements.services import restore
    from statements.views import common

    rendered: dict[tuple[str, int], bytes] = {}

    def once(kind: str, render):
        def render_once(document):
            if (kind, document.pk) not in rendered:
                rendered[kind, document.pk] = render(document)
            return rendered[kind, document.pk]

        return render_once

    patch = pytest.MonkeyPatch()
    patch.setattr(common, "render_statement_pdf", once("statement", render_statement_pdf))
    patch.setattr(restore, "render_statement_pdf", once("statement", render_statement_pdf))
    patch.setattr(documents, "render_credit_note_pdf", once("note", render_credit_note_pdf))
    media = tmp_path_factory.mktemp("page-matrix-media")
    try:
        with (
            django_db_blocker.unblock(),
            # As in production: account managers and administrators give a second factor
            # (the suite's settings turn it off).
            override_settings(MEDIA_ROOT=media, REQUIRE_TWO_FACTOR=True),
            time_machine.travel(NOW, tick=False),
            transaction.atomic(),
        ):
            call_command("load_sla_catalog", verbosity=0)
            built = build_world()
            built.clients = {role: signed_in(built.people[role]) for role in ROLES}
            cache.clear()  # the status pages' renderings of other tests' outages
            yield built
            transaction.set_rollback(True)
    finally:
        patch.undo()
        cache.clear()


@pytest.fixture(autouse=True)
def at_now(frozen_now):
    """Every request at the world's instant, whatever the suite's (SLA_TEST_NOW)."""
    with time_machine.travel(NOW, tick=False):
        yield


# ---------------------------------------------------------------- the matrix


@pytest.mark.parametrize("name", sorted(RULES))
def test_each_role_gets_the_answer_its_rule_gives_on_every_page(name, world):
    rule = RULES[name]
    wrong = []
    for case in cases(rule, pages()[name], world):
        client = signed_in(world.people[case.role]) if rule.fresh else world.clients[case.role]
        response = ask(client, rule.method, case.url, case.body)
        if not meets(response, case.expect, rule.ok):
            where = f" → {response['Location']}" if response.has_header("Location") else ""
            wrong.append(
                f"{rule.method} {case.url} {case.role} {case.side}: "
                f"{response.status_code}{where}, want {case.expect}"
            )
    assert wrong == [], "\n".join(wrong)


def test_an_action_takes_only_a_post(world):
    """The table's POST rows are the views that take nothing else: a GET from someone who
    may post is a 405."""
    wrong = []
    for name, rule in sorted(RULES.items()):
        if rule.method == "POST":
            case = next(c for c in cases(rule, pages()[name], world) if c.expect == OK)
            status = ask(world.clients[case.role], "GET", case.url).status_code
            if status != 405:
                wrong.append(f"GET {case.url} {case.role}: {status}")
    assert wrong == [], "\n".join(wrong)


# The pages that start from the caller's customers: a customer's own pages show their
# organisation's objects alone; an account manager's money pages (/am/) those of the
# customers they manage.
SCOPED = {"customer": "portal/", "customer_admin": "portal/", "account_manager": "am/"}


def test_no_page_shows_another_customers_objects_to_whom_they_are_hidden(world):
    shown = []
    for name, rule in sorted(RULES.items()):
        page = pages()[name]
        for case in cases(rule, page, world):
            prefix = SCOPED.get(case.role)
            if rule.method != "GET" or case.side == "foreign" or case.expect != OK:
                continue
            if prefix is None or not page.route.startswith(prefix):
                continue
            response = ask(world.clients[case.role], "GET", case.url)
            html = response.get("Content-Type", "").startswith("text/html")
            if html and "Foreign Co" in response.content.decode():
                shown.append(f"{case.url} {case.role}")
    assert shown == [], "another customer's objects shown:\n" + "\n".join(shown)


def test_a_customer_only_outage_is_on_no_public_page(world):
    for side in (0, 1):
        url = pages()["status-incident"].url({"outage_id": world.ids["outage_id"][side]})
        for role in ROLES:
            assert ask(world.clients[role], "GET", url).status_code == 404, (role, side)


def test_the_django_admin_is_for_staff_and_shows_them_only_their_models(world):
    """The Django admin has its own permission model: anonymous visitors and customer
    people are sent to its login; staff sign in to it with their role's read-only model
    permissions (slaportal.roles.GROUP_PERMISSIONS), so an agent sees no money there."""
    login = "/admin/login/?next=/admin/"
    for role in ("anonymous", "customer", "customer_admin"):
        response = ask(world.clients[role], "GET", "/admin/")
        assert (response.status_code, response["Location"]) == (302, login), role
    agent = ask(world.clients["agent"], "GET", "/admin/")
    assert agent.status_code == 200
    assert "/admin/tickets/" in agent.text
    for money in ("/admin/credits/", "/admin/contracts/invoice/", "/admin/statements/"):
        assert money not in agent.text
    assert ask(world.clients["admin"], "GET", "/admin/").status_code == 200
