"""Schemathesis fuzzes every operation of the OpenAPI schema, as a customer person and as
staff, with another customer's contract, ticket thread, outage, credit, statement and
invoice in the database. A response fails when it is a 5xx, when its status code or body
is not the one the schema documents, or when the customer is shown the other customer's
objects.

Run it alone: ``pytest tests/slaportal/test_api_fuzz.py`` (see README, "API"). Each operation gets a
small, derandomized number of examples, so a run is short and gives the same cases
every time; each operation runs in its own rolled-back transaction over one shared set
of data, so state-changing examples (close an outage, approve a credit) cannot leak into
the next operation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core import signals
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contracts.api import InvoiceViewSet, ServiceViewSet
from contracts.models import Invoice
from slaportal.wsgi import application
from statements.pdf import render_statement_pdf
from statements.views import common as statement_views
from tests.support.api_helpers import api_token_for
from tests.support.clock import suite_now

pytestmark = pytest.mark.django_db

FUZZ_SETTINGS = settings(
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)
JUNE = date(2026, 6, 1)
# Strings that only the foreign customer's objects carry: a customer's response must
# never contain one of them.
FOREIGN_MARKERS = (
    "Globex Foreign Holdings",
    "GLOBEX-SECRET-REF",
    "GLOBEX-INV-0001",
    "Globex secret ticket subject",
    "Globex secret reply body",
    "Globex-only outage title",
    "globexina.secret@globex.test",
)

# Explicit examples and the derandomized fuzzing phase; the coverage phase (hundreds of
# boundary cases per operation) would take this file past its time budget.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application, config=CONFIG)


@dataclass
class World:
    """The data every fuzzed operation runs against, and who is calling."""

    ids: dict[str, list[Any]] = field(default_factory=dict)  # resource → path values
    foreign_ids: dict[str, set[int]] = field(default_factory=dict)  # resource → ids
    tokens: dict[str, str] = field(default_factory=dict)  # "customer"/"staff" → key


WORLD = World()


def _build_world(media_root) -> World:
    from django.core.management import call_command

    from contracts.models import Invoice
    from credits.models import Credit
    from outages.services import outage_record
    from statements.models import StatementRun
    from statements.services import statement_generate, statements_plan
    from tests.support.factories import (
        CustomerFactory,
        CustomerUserFactory,
        InvoiceFactory,
        StaffFactory,
        catalog_contract,
        pending_credit,
        record_outage,
    )
    from tickets.services import ticket_file, ticket_reply

    call_command("load_sla_catalog", verbosity=0)
    staff = StaffFactory(role="admin")
    own = CustomerFactory(name="Acme Fuzzing Inc")
    foreign = CustomerFactory(name="Globex Foreign Holdings")
    for customer in (own, foreign):
        customer.account_managers.add(staff)
    person = CustomerUserFactory(customer=own, customer_role="admin")
    foreign_person = CustomerUserFactory(
        customer=foreign, email="globexina.secret@globex.test", first_name="Globexina"
    )

    lines = {"Heretto CCMS": "4000.00"}
    contract = catalog_contract(own, "heretto-ccms", lines, reference="ACME-REF")
    foreign_contract = catalog_contract(
        foreign, "heretto-ccms", lines, reference="GLOBEX-SECRET-REF"
    )
    service = contract.lines.first().service
    june_10 = datetime(2026, 6, 10, 16, tzinfo=UTC)
    own_outage = record_outage(contract, "Heretto CCMS", june_10, 300)
    # Same service as the customer's own: only the scope keeps it from them.
    foreign_outage = outage_record(
        service=service,
        started_at=datetime(2026, 6, 12, 16, tzinfo=UTC),
        ended_at=datetime(2026, 6, 12, 18, tzinfo=UTC),
        category="internal",
        title="Globex-only outage title",
        scope="customers",
        customers=[foreign],
        actor=None,
        now=datetime(2026, 6, 12, 18, tzinfo=UTC),
    )
    ongoing = outage_record(
        service=service,
        started_at=datetime(2026, 7, 1, 10, tzinfo=UTC),
        category="internal",
        title="Ongoing everywhere",
        actor=None,
        now=datetime(2026, 7, 1, 10, tzinfo=UTC),
    )
    ticket = ticket_file(
        actor=person, service=service, subject="Acme publish fails", description="500s", severity=2
    )
    ticket_reply(ticket=ticket, actor=staff, body="Looking into it")
    ticket_reply(ticket=ticket, actor=staff, body="Internal: ask ops", public=False)
    foreign_ticket = ticket_file(
        actor=foreign_person,
        service=service,
        subject="Globex secret ticket subject",
        description="Globex cannot log in.",
        severity=3,
    )
    ticket_reply(ticket=foreign_ticket, actor=foreign_person, body="Globex secret reply body")
    credit = pending_credit(contract)
    foreign_credit = pending_credit(foreign_contract)
    statement = statement_generate(contract=contract, month=JUNE, now=NOW)
    foreign_statement = statement_generate(contract=foreign_contract, month=JUNE, now=NOW)
    invoice = InvoiceFactory(contract=contract)
    foreign_invoice = InvoiceFactory(contract=foreign_contract, number="GLOBEX-INV-0001")
    run = statements_plan(
        month=date(2026, 5, 1), trigger=StatementRun.Trigger.API, actor=staff, now=NOW
    )
    own_credit_ids = list(Credit.objects.filter(contract=contract).values_list("pk", flat=True))
    assert own_credit_ids and Invoice.objects.count() == 2

    world = World()
    world.ids = {
        "customers": [own.pk, foreign.pk],
        "services": [service.pk],
        "contracts": [contract.pk, foreign_contract.pk],
        "invoices": [invoice.pk, foreign_invoice.pk],
        "outages": [own_outage.pk, ongoing.pk, foreign_outage.pk],
        "tickets": [ticket.pk, foreign_ticket.pk],
        "credits": [credit.pk, foreign_credit.pk],
        "ledger": [],
        "statements": [statement.pk, foreign_statement.pk],
        "policies": ["heretto-ccms", "balto-uptime"],
        "calendars": [contract.policy.support_calendar.code],
        "people": [person.pk, foreign_person.pk],
        "statement-runs": [run.pk] if run else [],
    }
    world.foreign_ids = {
        "customers": {foreign.pk},
        "contracts": {foreign_contract.pk},
        "invoices": {foreign_invoice.pk},
        "outages": {foreign_outage.pk},
        "tickets": {foreign_ticket.pk},
        "credits": {foreign_credit.pk},
        "statements": {foreign_statement.pk},
        "people": {foreign_person.pk},
    }
    world.tokens = {
        "customer": api_token_for(person),
        "staff": api_token_for(staff),
    }
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One set of data for the whole module, built in a transaction that is rolled back
    at the end; each test's own transaction nests inside it as a savepoint."""
    media = tmp_path_factory.mktemp("fuzz-media")
    # The WSGI handler would close the connection (and our transaction) after each
    # request; Django's own test client unhooks the same signals.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # A statement's PDF is rendered for real once, then served from memory: the fuzz asks
    # for it many times, and WeasyPrint takes a second each.
    rendered: dict[int, bytes] = {}

    def render_once(statement):
        if statement.pk not in rendered:
            rendered[statement.pk] = render_statement_pdf(statement)
        return rendered[statement.pk]

    patch = pytest.MonkeyPatch()
    patch.setattr(statement_views, "render_statement_pdf", render_once)
    try:
        with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
            with transaction.atomic():
                # Built before any test's clock is set (module scope): at the suite's
                # instant all the same, never at the real date.
                with time_machine.travel(suite_now(), tick=False):
                    built = _build_world(media)
                WORLD.ids, WORLD.foreign_ids, WORLD.tokens = (
                    built.ids,
                    built.foreign_ids,
                    built.tokens,
                )
                yield WORLD
                transaction.set_rollback(True)
    finally:
        patch.undo()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _resource(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/", 1)[0]


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict[str, Any]):
    """Most generated ids name nothing; draw real ones too (the caller's own objects and
    the other customer's), so the fuzz reaches the operations' real work."""
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    known = WORLD.ids.get(_resource(context.operation.path), [])
    draws: dict[str, st.SearchStrategy] = {}
    for name, value in path_parameters.items():
        if name in ("id", "code") and known:
            draws[name] = st.sampled_from([*known, value])
        else:
            draws[name] = st.just(value)
    return st.fixed_dictionaries(draws)


def _objects(body: Any) -> list[dict]:
    if isinstance(body, dict):
        if isinstance(body.get("results"), list):
            return [row for row in body["results"] if isinstance(row, dict)]
        return [body]
    if isinstance(body, list):
        return [row for row in body if isinstance(row, dict)]
    return []


def no_foreign_objects(ctx, response, case) -> bool | None:
    """As the customer: no body names or returns the other customer's objects."""
    if case.headers is None or case.headers.get("X-Fuzz-As") != "customer":
        return None
    if not response.content:
        return None
    text = response.content.decode("utf-8", errors="replace")  # a PDF is bytes
    leaked = [marker for marker in FOREIGN_MARKERS if marker in text]
    if leaked:
        raise AssertionError(f"The customer was shown another customer's data: {leaked}")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        return None
    foreign = WORLD.foreign_ids.get(_resource(case.operation.path), set())
    returned = {row.get("id") for row in _objects(body)} & foreign
    if returned and 200 <= response.status_code < 300:
        raise AssertionError(f"The customer was given another customer's object(s) {returned}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    no_foreign_objects,
]


def _call(case, who: str):
    # The schema's security schemes make schemathesis send a made-up credential of its
    # own; the caller's real token replaces it (and no session cookie competes with it).
    case.headers = {
        **(case.headers or {}),
        "Authorization": f"Token {WORLD.tokens[who]}",
        "X-Fuzz-As": who,
    }
    case.cookies = {}
    with transaction.atomic():
        try:
            case.call_and_validate(checks=CHECKS)
        finally:
            transaction.set_rollback(True)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_a_customer_person(case, world):
    _call(case, "customer")


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_staff(case, world):
    _call(case, "staff")


# ---------------------------------------------------------------- the fuzz itself is sharp


def _fuzz_one(path: str, method: str, who: str) -> list[str]:
    """Fuzz one operation as ``who`` with the same checks; the failures' messages."""
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(FUZZ_SETTINGS, max_examples=5)
    def run(case):
        _call(case, who)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis: a group of failures
        return _messages(exc)
    return []


def _messages(exc: BaseException) -> list[str]:
    found = [f"{type(exc).__name__}: {exc}"]
    for inner in getattr(exc, "exceptions", ()):
        found += _messages(inner)
    return found


def test_a_deliberate_500_makes_the_fuzz_fail(world, monkeypatch):
    def broken(self, request, *args, **kwargs):
        raise RuntimeError("deliberately broken for this test")

    monkeypatch.setattr(ServiceViewSet, "list", broken)

    failures = _fuzz_one("/api/v1/services/", "GET", "staff")

    assert any("ServerError" in message for message in failures), failures


def test_a_leak_of_another_customers_invoice_makes_the_fuzz_fail(world, monkeypatch):
    # Forget the tenant rule on one endpoint: every invoice to everyone.
    monkeypatch.setattr(InvoiceViewSet, "get_queryset", lambda self: Invoice.objects.all())

    failures = _fuzz_one("/api/v1/invoices/", "GET", "customer")

    assert any("another customer's data" in message for message in failures), failures


def test_the_unbroken_operations_pass_the_same_run(world):
    assert _fuzz_one("/api/v1/services/", "GET", "staff") == []
    assert _fuzz_one("/api/v1/invoices/", "GET", "customer") == []
