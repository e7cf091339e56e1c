"""The answer each role must get on each HTML page (``RULES``), read by
test_page_matrix.py; what the answers mean is said there and in tests/support/page_matrix.py.
Every page of the URL conf needs a row here (``test_every_page_has_a_rule``)."""

from __future__ import annotations

from tests.support.page_matrix import HIDDEN, NO, OK, Ref, Rule, get, obj, post, public, roles

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
    # Prometheus's /metrics: only a scraper with METRICS_TOKEN; no session opens it.
    "metrics": get(public(NO)),
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
