"""Every HTML page of the portal × every role × the caller's own customer and another
customer: the answer each must get. The pages come from the URL conf (the REST API has
its own matrix, test_authority_matrix.py), so a new page without a row in ``RULES``
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

from tests.support.page_matrix import (
    HIDDEN,
    NOW,
    OK,
    ROLES,
    Ref,
    Rule,
    ask,
    build_world,
    cases,
    get,
    html_pages,
    meets,
    missing_rules,
    obj,
    post,
    public,
    roles,
    signed_in,
    stale_rules,
)

# Each test nests in the module's transaction (see ``world``) as a savepoint of its own.
pytestmark = pytest.mark.django_db

SIGNED_IN = roles(OK)
CUSTOMERS = roles(customer=OK, customer_admin=OK)
# A customer's object: their own organisation's; another's is hidden. Staff have no
# organisation: the customer pages refuse them.
CUSTOMER_OBJECT = obj(CUSTOMERS, roles(customer=HIDDEN, customer_admin=HIDDEN))
CUSTOMER_ADMINS = roles(customer_admin=OK)
PEOPLE = obj(CUSTOMER_ADMINS, roles(customer_admin=HIDDEN))
# The desk is the agents' (and administrators'): every customer's ticket, nobody else.
DESK = roles(agent=OK, admin=OK)
# The SLA attainment report: every staff role (an account manager's page shows only the
# customers they manage); no customer's object in its path.
SLA_REPORT = roles(agent=OK, operations=OK, account_manager=OK, admin=OK)
# A ticket's desk page and files: account managers read their own customers' tickets.
DESK_READ = obj(
    roles(agent=OK, admin=OK, account_manager=OK), roles(agent=OK, admin=OK, account_manager=HIDDEN)
)
# Outages are operations' (and administrators').
OPS = roles(operations=OK, admin=OK)
# A contract's availability: every staff role reads every contract's, as the API does.
AVAILABILITY = roles(agent=OK, operations=OK, account_manager=OK, admin=OK)
# Money: the customer's account managers and administrators; another customer's object
# is hidden from an account manager who does not manage it.
MANAGERS = roles(account_manager=OK, admin=OK)
MONEY_OBJECT = obj(MANAGERS, roles(account_manager=HIDDEN, admin=OK))
# A credit is decided by the customer's own account manager alone: an administrator who
# does not manage the customer is refused too (two people on every credit).
CREDIT_DECISION = obj(roles(account_manager=OK), roles(account_manager=HIDDEN))
# Statements and runs are read by account managers, operations and administrators (every
# customer's, as the API reads them); acting on one is for the customer's account
# manager and administrators: another customer's manager is refused (a 403, since they
# read it).
STATEMENT_READERS = roles(operations=OK, account_manager=OK, admin=OK)
STATEMENT_ACT = obj(MANAGERS, roles(admin=OK))
ADMINS = roles(admin=OK)
MONEY_STAFF = roles(HIDDEN, account_manager=OK, admin=OK)

REASON = "Checked by the page matrix"

RULES: dict[str, Rule] = {
    # The shell: / sends each signed-in person to their role's home.
    "home": get(SIGNED_IN, ok=(302,)),
    "portal-home": get(CUSTOMERS),
    "am-home": get(MANAGERS),
    "backoffice-home": get(ADMINS),
    # The monitoring probe: anyone (the world owes no statement, so it answers healthy).
    "healthz": get(public()),
    # Signing in and out, passwords (their own tests: tests/portal/test_login_and_roles.py).
    "login": get(public()),
    "logout": post(public(), ok=(302,), fresh=True),
    "password_change": get(SIGNED_IN),
    "password_change_done": get(SIGNED_IN),
    "password_reset": get(public()),
    "password_reset_done": get(public()),
    "password_reset_confirm": get(public()),
    "password_reset_complete": get(public()),
    # The second factor of staff with money authority; nobody else has these pages. The
    # matrix's sessions have given theirs, so the code page sends them on.
    "two-factor": get(MONEY_STAFF),
    "two-factor-setup": get(MONEY_STAFF),
    "two-factor-verify": get(MONEY_STAFF, ok=(302,)),
    "two-factor-codes-renew": post(MONEY_STAFF),
    # The customer's tickets.
    "portal-tickets": get(CUSTOMERS),
    "portal-ticket-new": get(CUSTOMERS),
    "portal-ticket": get(CUSTOMER_OBJECT),
    "portal-ticket-reply": post(CUSTOMER_OBJECT, {"body": REASON}),
    "portal-ticket-status": post(CUSTOMER_OBJECT, {"status": "resolved"}),
    "portal-ticket-watchers": post(CUSTOMER_OBJECT, {"person": "0"}),
    # Anyone's own time zone and e-mail choices.
    "profile": get(SIGNED_IN),
    # The customer's SLA terms and the SLA attainment report (with its downloads).
    "portal-sla": get(CUSTOMERS),
    "portal-attainment": get(CUSTOMERS),
    "portal-attainment-csv": get(CUSTOMERS),
    "portal-attainment-xlsx": get(CUSTOMERS),
    "staff-attainment": get(SLA_REPORT),
    "staff-attainment-csv": get(SLA_REPORT),
    "staff-attainment-xlsx": get(SLA_REPORT),
    "portal-ticket-file": get(CUSTOMER_OBJECT),
    # The support desk.
    "desk-home": get(DESK),
    "desk-ticket-new": get(DESK),
    "desk-ticket": get(DESK_READ),
    "desk-ticket-reply": post(DESK, {"body": REASON, "kind": "internal"}),
    "desk-ticket-take": post(DESK),
    "desk-ticket-assign": post(DESK),
    "desk-ticket-status": post(DESK),
    "desk-ticket-reclassify": post(DESK, {"severity": "2", "reason": REASON}),
    "desk-ticket-file": get(DESK_READ),
    # The customer admin's people.
    "portal-people": get(CUSTOMER_ADMINS),
    "portal-person-add": get(CUSTOMER_ADMINS),
    "portal-person": get(PEOPLE),
    "portal-person-role": post(PEOPLE, {"role": "user"}),
    "portal-person-deactivate": post(PEOPLE),
    "portal-person-reactivate": post(PEOPLE),
    "portal-person-invite": post(PEOPLE),
    # Operations: outages, and the availability of any contract for staff.
    "ops-home": get(OPS),
    "ops-outage-new": get(OPS),
    "ops-outage": get(OPS),
    "ops-outage-edit": get(OPS),
    "ops-outage-update": post(OPS, {"text": REASON}),
    "ops-outage-close": post(OPS),
    "ops-outage-confirm": post(OPS),
    "ops-outage-dismiss": post(OPS, {"dismiss-reason": REASON}),
    # Alert intake: sources (their token shown once) and the label-to-service routes.
    "ops-alerts": get(OPS),
    "ops-alert-source-new": post(OPS, {"name": REASON}),
    "ops-alert-source-deactivate": post(OPS),
    "ops-alert-route-new": post(OPS, {"label": "service", "value": "matrix-new"}),
    "ops-alert-route-edit": get(OPS),
    "ops-alert-route-delete": post(OPS),
    "ops-contracts": get(AVAILABILITY),
    "ops-contract-availability": get(AVAILABILITY),
    # Credits, invoices and credit notes.
    "am-credits": get(MANAGERS),
    "am-credit": get(MONEY_OBJECT),
    "am-credit-approve": post(CREDIT_DECISION),
    "am-credit-reject": post(CREDIT_DECISION, {"reason": REASON}),
    "am-credit-direct": post(CREDIT_DECISION, {"invoice_kind": "professional_services"}),
    "am-invoices": get(MANAGERS),
    "am-invoice": get(MONEY_OBJECT),
    "am-credit-notes": get(MANAGERS),
    "am-credit-note-pdf": get(MONEY_OBJECT),
    "am-credit-note-rerender": post(MONEY_OBJECT),
    "portal-credits": get(CUSTOMERS),
    "portal-invoices": get(CUSTOMERS),
    "portal-invoice": get(CUSTOMER_OBJECT),
    "portal-credit-notes": get(CUSTOMERS),
    "portal-credit-note-pdf": get(CUSTOMER_OBJECT),
    # Statements.
    "portal-statements": get(CUSTOMERS),
    "portal-statement": get(CUSTOMER_OBJECT),
    "portal-statement-pdf": get(CUSTOMER_OBJECT),
    "staff-statements": get(STATEMENT_READERS),
    # A month's statements of one contract: the own customer's, then another's.
    "staff-statements-generate": post(
        STATEMENT_ACT, {"month": "2026-04", "contract": Ref("contract_id")}
    ),
    "staff-statement-runs": get(STATEMENT_READERS),
    "staff-statement-run-retry": post(STATEMENT_ACT),
    "staff-statement": get(STATEMENT_READERS),
    "staff-statement-pdf": get(STATEMENT_READERS),
    "staff-statement-pdf-restore": post(STATEMENT_ACT),
    "staff-statement-draft": post(STATEMENT_ACT),
    "staff-statement-reissue": post(STATEMENT_ACT, {"reason": REASON, "force": "on"}),
    # The administrators' back office: the audit log and webhooks.
    "backoffice-audit": get(ADMINS),
    "webhook-endpoints": get(ADMINS),
    "webhook-endpoint-new": get(ADMINS),
    "webhook-endpoint": get(ADMINS),
    "webhook-endpoint-edit": get(ADMINS),
    "webhook-endpoint-deactivate": post(ADMINS),
    "webhook-endpoint-rotate-secret": post(ADMINS),
    "webhook-deliveries": get(ADMINS),
    "webhook-delivery": get(ADMINS),
    "webhook-delivery-replay": post(ADMINS),
    # The public status page: no login, provider-wide incidents only.
    "status-page": get(public()),
    "status-incident": get(public(), ids={"outage_id": "public_outage_id"}),
    "status-feed": get(public()),
    # Re-issue requests: the customer's account managers and administrators; another
    # customer's request is hidden from an account manager who does not manage it.
    "staff-reissue-requests": get(MANAGERS),
    "staff-reissue-request-reissue": post(MONEY_OBJECT),
    "staff-reissue-request-dismiss": post(MONEY_OBJECT, {"note": REASON}),
    # The status in Statuspage's shape (JSON): public like the page.
    "statuspage-summary": get(public()),
    "statuspage-status": get(public()),
    "statuspage-components": get(public()),
    "statuspage-incidents": get(public()),
    "statuspage-incidents-unresolved": get(public()),
    "statuspage-scheduled-maintenances": get(public()),
    "statuspage-scheduled-maintenances-upcoming": get(public()),
    "statuspage-scheduled-maintenances-active": get(public()),
    # Status page e-mail subscriptions: no login; the token pages are the e-mailed links.
    "status-subscribe": get(public()),
    "status-subscribe-sent": get(public()),
    "status-subscription": get(public(), ids={"token": "subscriber_token"}),
    "status-subscription-confirm": get(public(), ids={"token": "subscriber_token"}),
    "status-subscription-unsubscribe": get(public(), ids={"token": "subscriber_token"}),
    # The customer's incidents: their organisation's and every customer's, never another's.
    "portal-incidents": get(CUSTOMERS),
}


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
