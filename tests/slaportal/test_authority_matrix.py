"""Every API operation × every role × the caller's own customer and another customer:
the status each must answer. The operations come from the OpenAPI schema, so a new
endpoint without a row in ``RULES`` fails ``test_every_operation_has_a_rule``.

Roles: a customer's person and admin (of the own customer), a support agent, operations,
an account manager of the own customer only, an administrator. What an answer means:
- ``ok``: past the authority checks (2xx, or 400/409 on the empty or repeated body);
- ``403``: the role may not; ``404``: the object is not among those the caller may see.
Each request runs in a transaction rolled back after it, against one shared set of data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import transaction

from tests.support.api_helpers import API, client_for

pytestmark = pytest.mark.django_db

ROLES = ("customer", "customer_admin", "agent", "operations", "account_manager", "admin")
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
JUNE = date(2026, 6, 1)

OK, NO, HIDDEN = "ok", "403", "404"


def every(expect: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, expect)


def roles(default: str = NO, **named: str) -> dict[str, str]:
    return {**every(default), **named}


# Shorthands for the usual shapes, as (own, foreign) per role.
def obj(own: dict[str, str], foreign: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {role: (own[role], foreign[role]) for role in ROLES}


CUSTOMERS_OWN = {"customer": OK, "customer_admin": OK}
CUSTOMERS_HIDDEN = {"customer": HIDDEN, "customer_admin": HIDDEN}
STAFF = {"agent": OK, "operations": OK, "account_manager": OK, "admin": OK}
# Read by every signed-in person: customers their own (another's a 404), staff all.
READ_ALL = obj({**CUSTOMERS_OWN, **STAFF}, {**CUSTOMERS_HIDDEN, **STAFF})
# Money: customers their own, the customer's account manager and administrators;
# agents and operations are refused; another customer's is hidden from its non-manager.
MONEY_READ = obj(
    {**CUSTOMERS_OWN, "agent": NO, "operations": NO, "account_manager": OK, "admin": OK},
    {**CUSTOMERS_HIDDEN, "agent": NO, "operations": NO, "account_manager": HIDDEN, "admin": OK},
)
# Money actions: the customer's account manager (another customer's credit is hidden from
# them), administrators where the action allows them.
MONEY_ACT = obj(
    roles(account_manager=OK, admin=OK),
    roles(account_manager=HIDDEN, admin=OK),
)
# A credit is decided by the customer's own account manager alone: an administrator who
# does not manage the customer is refused too (two people on every credit).
CREDIT_DECISION = obj(roles(account_manager=OK), roles(account_manager=HIDDEN))

HIDDEN_FROM_OTHER_STAFF = {"operations": HIDDEN, "account_manager": HIDDEN}
# Account managers read their own customers' tickets (escalations link them there) and
# change nothing; another customer's ticket is hidden from them as from operations.
TICKET_READ = obj(
    {**CUSTOMERS_OWN, "agent": OK, "admin": OK, **HIDDEN_FROM_OTHER_STAFF, "account_manager": OK},
    {**CUSTOMERS_HIDDEN, "agent": OK, "admin": OK, **HIDDEN_FROM_OTHER_STAFF},
)
TICKET_WRITE = obj(
    {**CUSTOMERS_OWN, "agent": OK, "admin": OK, **HIDDEN_FROM_OTHER_STAFF, "account_manager": NO},
    {**CUSTOMERS_HIDDEN, "agent": OK, "admin": OK, **HIDDEN_FROM_OTHER_STAFF},
)
TICKET_WORK = obj(
    {
        "customer": NO,
        "customer_admin": NO,
        "agent": OK,
        "admin": OK,
        **HIDDEN_FROM_OTHER_STAFF,
        "account_manager": NO,
    },
    {**CUSTOMERS_HIDDEN, "agent": OK, "admin": OK, **HIDDEN_FROM_OTHER_STAFF},
)

# A valid body where the view reads it before the service decides who may: the refusal,
# not a 400 on the body, is what the matrix must see.
BODIES: dict[str, dict] = {
    "credits_direct_create": {"invoice_kind": "professional_services"},
    "credits_reject_create": {"reason": "Checked by the matrix"},
    "invoices_partial_update": {"paid_at": "2026-07-10T00:00:00Z"},
    "statements_reissue_create": {"reason": "Checked by the matrix", "force": True},
    "statements_generate_create": {"month": "2026-04"},
    "tickets_partial_update": {"status": "resolved"},
    "tickets_reclassify_create": {"severity": 2, "reason": "Checked by the matrix"},
    "tickets_messages_create": {"body": "Checked by the matrix"},
}

RULES: dict[str, object] = {
    # Each person's own API token.
    "auth_token_retrieve": every(OK),
    "auth_token_create": every(OK),
    "auth_token_destroy": every(OK),
    # Shared catalog: services and policies read by all, calendars by staff.
    "calendars_list": roles(OK, customer=NO, customer_admin=NO),
    "calendars_retrieve": roles(OK, customer=NO, customer_admin=NO),
    "calendars_create": roles(admin=OK),
    "calendars_update": roles(admin=OK),
    "services_list": every(OK),
    "services_retrieve": every(OK),
    "services_create": roles(admin=OK),
    "policies_list": every(OK),
    "policies_retrieve": every(OK),
    "policies_create": roles(admin=OK),
    # Customers: every staff role reads them (agents log tickets for any customer).
    "customers_list": every(OK),
    "customers_retrieve": READ_ALL,
    "customers_create": roles(admin=OK),
    "customers_update": obj(roles(admin=OK), roles(admin=OK)),
    "customers_partial_update": obj(roles(admin=OK), roles(admin=OK)),
    "contracts_list": every(OK),
    "contracts_retrieve": READ_ALL,
    "contracts_availability_retrieve": READ_ALL,
    "contracts_create": roles(account_manager=OK, admin=OK),
    "invoices_list": roles(OK, agent=NO, operations=NO),
    "invoices_retrieve": MONEY_READ,
    "invoices_create": roles(account_manager=OK, admin=OK),
    "invoices_partial_update": MONEY_ACT,
    "credits_list": roles(OK, agent=NO, operations=NO),
    "credits_retrieve": MONEY_READ,
    "credits_approve_create": CREDIT_DECISION,
    "credits_reject_create": CREDIT_DECISION,
    "credits_direct_create": CREDIT_DECISION,
    "credit_notes_list": roles(OK, agent=NO, operations=NO),
    "credit_notes_retrieve": MONEY_READ,
    "credit_notes_pdf_retrieve": MONEY_READ,
    "ledger_list": roles(OK, agent=NO, operations=NO),
    "ledger_retrieve": MONEY_READ,
    "ledger_balance_list": roles(OK, agent=NO, operations=NO),
    # Outages: read by all (customers those that touched them); operations record them.
    # The public status in Statuspage's shape: anyone, signed in or not.
    "statuspage_summary": every(OK),
    "statuspage_status": every(OK),
    "statuspage_components": every(OK),
    "statuspage_incidents": every(OK),
    "statuspage_incidents_unresolved": every(OK),
    "statuspage_scheduled_maintenances": every(OK),
    "statuspage_scheduled_maintenances_upcoming": every(OK),
    "statuspage_scheduled_maintenances_active": every(OK),
    "outages_list": every(OK),
    "outages_retrieve": READ_ALL,
    "outages_create": roles(operations=OK, admin=OK),
    "outages_partial_update": obj(roles(operations=OK, admin=OK), roles(operations=OK, admin=OK)),
    "outages_close_create": obj(roles(operations=OK, admin=OK), roles(operations=OK, admin=OK)),
    "outages_confirm_create": obj(roles(operations=OK, admin=OK), roles(operations=OK, admin=OK)),
    "outages_dismiss_create": obj(roles(operations=OK, admin=OK), roles(operations=OK, admin=OK)),
    "outages_updates_create": obj(roles(operations=OK, admin=OK), roles(operations=OK, admin=OK)),
    # People: a customer's admin manages their organisation's people.
    "people_list": roles(customer_admin=OK),
    "people_retrieve": obj(roles(customer_admin=OK), roles(customer_admin=HIDDEN)),
    "people_create": roles(customer_admin=OK),
    "people_partial_update": obj(roles(customer_admin=OK), roles(customer_admin=HIDDEN)),
    "people_invite_create": obj(roles(customer_admin=OK), roles(customer_admin=HIDDEN)),
    # Statements: customers read their own issued ones; the pages' readers (account
    # managers, operations) read all; the customer's account manager acts.
    "statements_list": roles(OK, agent=NO),
    "statements_retrieve": obj(
        roles(OK, agent=NO), roles(OK, agent=NO, customer=HIDDEN, customer_admin=HIDDEN)
    ),
    "statements_pdf_retrieve": obj(
        roles(OK, agent=NO), roles(OK, agent=NO, customer=HIDDEN, customer_admin=HIDDEN)
    ),
    "statements_draft_create": obj(roles(account_manager=OK, admin=OK), roles(admin=OK)),
    "statements_reissue_create": obj(roles(account_manager=OK, admin=OK), roles(admin=OK)),
    "statements_generate_create": roles(account_manager=OK, admin=OK),
    "statement_runs_list": roles(operations=OK, account_manager=OK, admin=OK),
    "statement_runs_retrieve": obj(
        roles(operations=OK, account_manager=OK, admin=OK),
        roles(operations=OK, account_manager=OK, admin=OK),
    ),
    "statement_runs_retry_create": obj(roles(account_manager=OK, admin=OK), roles(admin=OK)),
    # Tickets: customers their own; agents (and administrators) work every ticket;
    # account managers read their own customers'; operations reach none.
    "tickets_list": every(OK),
    # The SLA attainment report: customers their organisation's figures, account managers
    # their customers', other staff every customer's (the rows differ, not the answer).
    "reports_attainment_retrieve": every(OK),
    "tickets_retrieve": TICKET_READ,
    "tickets_create": every(OK),
    # A customer's person may mark their ticket resolved (the body sent here).
    "tickets_partial_update": TICKET_WRITE,
    "tickets_attachments_retrieve": TICKET_READ,
    "tickets_messages_list": TICKET_READ,
    "tickets_messages_create": TICKET_WRITE,
    "tickets_reclassify_create": TICKET_WORK,
    "tickets_take_create": TICKET_WORK,
}


def _operations() -> dict[str, tuple[str, str]]:
    """operationId → (method, path) of every operation of the schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        operation["operationId"]: (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_operation_has_a_rule():
    operations = _operations()
    assert sorted(set(operations) - set(RULES)) == [], "add a row to RULES for each"
    assert sorted(set(RULES) - set(operations)) == [], "a rule for an operation that is gone"


@pytest.fixture
def world(catalog, settings, tmp_path, celery_eager):
    """Two customers, each with a contract, an outage only they had, a credit applied by
    a credit note to an invoice, a pending credit, an issued statement, a failed statement
    run, a ticket with an attachment and a person; the account manager manages the own
    customer only. Returns the people and, per path resource, the (own, foreign) ids."""
    from credits.models import LedgerEntry
    from tests.support.two_customers import two_customers

    settings.MEDIA_ROOT = tmp_path / "media"
    people, sides = two_customers(NOW)
    ids: dict[str, list] = {}
    for made in sides.values():
        for resource, value in {
            "customers": made.customer.pk,
            "contracts": made.contract.pk,
            "invoices": made.note.invoice_id,
            "credits": made.pending.pk,
            "credit-notes": made.note.pk,
            "ledger": LedgerEntry.objects.filter(customer=made.customer).values_list(
                "pk", flat=True
            )[0],
            "outages": made.outage.pk,
            "people": made.person.pk,
            "statements": made.statement.pk,
            "statement-runs": made.run.pk,
            "tickets": made.ticket.pk,
            "attachments": made.attachment.pk,
        }.items():
            ids.setdefault(resource, []).append(value)
    service = sides["own"].service
    ids["services"] = [service.pk, service.pk]
    ids["calendars"] = [sides["foreign"].contract.policy.support_calendar.code] * 2
    ids["policies"] = ["heretto-ccms"] * 2
    return people, ids


def _url(path: str, ids: dict[str, list], side: int) -> str:
    resource = path[len(API) :].split("/")[0]
    url = path
    for holder in ("{id}", "{code}"):
        if holder in url:
            url = url.replace(holder, str(ids[resource][side]))
    url = url.replace("{aid}", str(ids["attachments"][side]))
    if "/availability/" in url:
        url += "?month=2026-06"
    return url


def _meets(status: int, expect: str) -> bool:
    if expect == OK:
        return status < 500 and status not in (401, 403, 404)
    return status == int(expect)


def test_each_role_gets_the_answer_its_rule_gives_on_every_operation(world):
    people, ids = world
    clients = {role: client_for(people[role]) for role in ROLES}
    wrong = []
    for operation, (method, path) in sorted(_operations().items()):
        rule = RULES[operation]
        per_object = "{id}" in path and not path.startswith((f"{API}services/",))
        for role in ROLES:
            expected = rule[role]
            cases = (
                [(0, expected[0]), (1, expected[1])]
                if isinstance(expected, tuple)
                else [(0, expected)]
            )
            for side, expect in cases:
                url = _url(path, ids, side)
                with transaction.atomic():
                    body = BODIES.get(operation, {})
                    response = getattr(clients[role], method.lower())(url, body, format="json")
                    transaction.set_rollback(True)
                if not _meets(response.status_code, expect):
                    which = ("own", "foreign")[side] if per_object else "-"
                    wrong.append(
                        f"{operation} {role} {which}: {response.status_code}, want {expect}"
                    )
    assert wrong == [], "\n".join(wrong)
