"""Schemathesis fuzzes every operation of the OpenAPI schema as four callers: a customer's
person, a support agent, the customer's account manager and an administrator, with
another customer's contract, ticket, outage, credits, credit note, ledger, statement and
invoices in the database (tests/support/fuzz_world.py). A response fails when it is a
5xx, when its status code, content type or body is not the one the schema documents,
when the customer is shown the other customer's objects, or when the account manager is
shown the money of the customer they do not manage.

Every phase runs: the schema's examples, the coverage phase (boundary values, wrong
types, missing and unexpected fields, undeclared methods), derandomized fuzzing, and
stateful workflows along the links schemathesis infers (a list's ids into the detail and
action operations). Each is bounded, and gives the same cases every run.

Run it alone: ``pytest tests/slaportal/test_api_fuzz.py`` (see README, "API"). Each case
runs in its own rolled-back transaction (a workflow: each scenario) over one shared set of
data, so state-changing cases (close an outage, approve a credit) cannot leak into the
next.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core import signals
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import TestPhase

from contracts.api import InvoiceViewSet, ServiceViewSet
from contracts.models import Invoice
from credits import services as credit_services
from credits.api import CreditViewSet
from slaportal.wsgi import application
from statements.pdf import render_statement_pdf
from statements.views import common as statement_views
from tests.support.clock import suite_now
from tests.support.fuzz_checks import CHECKS, resource
from tests.support.fuzz_world import ROLES, WORLD, build_world

pytestmark = pytest.mark.django_db

FUZZ_SETTINGS = settings(
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
# Workflows: a few short scenarios per caller, each a chain of linked operations.
WORKFLOW_SETTINGS = settings(FUZZ_SETTINGS, max_examples=15, stateful_step_count=5)
CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {
            "examples": {"enabled": True},
            # Bounded further by ``filter_case`` below.
            "coverage": {
                "enabled": True,
                "generate-duplicate-query-parameters": False,
                # One undeclared method that reads, one that writes, one nobody serves.
                "unexpected-methods": ["delete", "patch", "trace"],
            },
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": 5},
        }
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application, config=CONFIG)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One set of data for the whole module, built in a transaction that is rolled back
    at the end; each test's own transaction nests inside it as a savepoint."""
    media = tmp_path_factory.mktemp("fuzz-media")
    # The WSGI handler would close the connection (and our transaction) after each
    # request; Django's own test client unhooks the same signals.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # A statement's or credit note's PDF is rendered for real once, then served from
    # memory: the fuzz asks for them many times, and WeasyPrint takes a second each.
    rendered: dict[tuple, bytes] = {}

    def once(render):
        def render_once(document):
            key = (render.__name__, document.pk, document.number)
            if key not in rendered:
                rendered[key] = render(document)
            return rendered[key]

        return render_once

    patch = pytest.MonkeyPatch()
    patch.setattr(statement_views, "render_statement_pdf", once(render_statement_pdf))
    patch.setattr(
        credit_services, "credit_note_pdf_bytes", once(credit_services.credit_note_pdf_bytes)
    )
    try:
        with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
            with transaction.atomic():
                # Built before any test's clock is set (module scope): at the suite's
                # instant all the same, never at the real date.
                with time_machine.travel(suite_now(), tick=False):
                    WORLD.update(build_world())
                yield WORLD
                transaction.set_rollback(True)
    finally:
        patch.undo()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _known(path: str, name: str) -> list[Any]:
    """Real values for the path parameter ``name``: the caller's own object first."""
    if name not in ("id", "code", "aid"):
        return []
    return WORLD.ids.get("attachments" if name == "aid" else resource(path), [])


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict[str, Any]):
    """Most generated ids name nothing; draw real ones too (the caller's own objects and
    the other customer's), so the fuzz reaches the operations' real work."""
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    draws: dict[str, st.SearchStrategy] = {}
    for name, value in path_parameters.items():
        known = _known(context.operation.path, name)
        draws[name] = st.sampled_from([*known, value]) if known else st.just(value)
    return st.fixed_dictionaries(draws)


# The coverage phase derives every boundary and wrong-type case the schema allows: over
# 5,000 per caller here (1,154 for POST policies/ alone), too many for the suite's time.
# Schemathesis has no bound for it (it refuses `max-examples` there), so this keeps each
# distinct mutation once (not every wrong type of the same field) and, of each kind (a
# scenario on one parameter or body), the first COVERAGE_PER_KIND: about 1,500 per caller.
COVERAGE_PER_KIND = 3
# Per run of an operation's coverage generator (one hook context each, held here so that
# its id is not reused), what it kept.
_coverage_kept: dict[int, tuple[Any, set, Counter]] = {}


@schema.hook
def filter_case(context, case) -> bool:
    meta = case.meta
    if meta is None or meta.phase.name != TestPhase.COVERAGE:
        return True
    data = meta.phase.data
    kind = (meta.generation.mode, data.scenario, data.parameter_location, data.parameter)
    spot = (*kind, data.location, data.description)
    _, seen, per_kind = _coverage_kept.setdefault(id(context), (context, set(), Counter()))
    if spot in seen or per_kind[kind] >= COVERAGE_PER_KIND:
        return False
    seen.add(spot)
    per_kind[kind] += 1
    return True


def _coverage_path_parameters(case) -> dict | None:
    """A coverage case names the same made-up object ("0") in every path: it gets the
    caller's own object instead, except in the parameter the case is about."""
    meta, values = case.meta, case.path_parameters
    if not values or meta is None or meta.phase.name != TestPhase.COVERAGE:
        return values
    data = meta.phase.data
    mutated = data.parameter if data.parameter_location == ParameterLocation.PATH else None
    real = {
        name: _known(case.operation.path, name)[0]
        for name in values
        if name != mutated and _known(case.operation.path, name)
    }
    return {**values, **real}


def _as(case, who: str) -> None:
    # The schema's security schemes make schemathesis send a made-up credential of its
    # own; the caller's real token replaces it (and no session cookie competes with it).
    case.headers = {
        **(case.headers or {}),
        "Authorization": f"Token {WORLD.tokens[who]}",
        "X-Fuzz-As": who,
    }
    case.cookies = {}


def _call(case, who: str) -> None:
    # The examples' and coverage cases are shared by the four callers' runs: what the
    # call changes on them is put back.
    original = case.headers, case.cookies, case.path_parameters
    _as(case, who)
    case.path_parameters = _coverage_path_parameters(case)
    try:
        with transaction.atomic():
            try:
                case.call_and_validate(checks=CHECKS)
            finally:
                transaction.set_rollback(True)
    finally:
        case.headers, case.cookies, case.path_parameters = original


@schema.parametrize()
@pytest.mark.parametrize("who", ROLES)
@FUZZ_SETTINGS
def test_api(case, who, world):
    _call(case, who)


@cache
def _workflow_base() -> type:
    return schema.as_state_machine()


@pytest.mark.parametrize("who", ROLES)
def test_api_workflows(world, who):
    class Workflow(_workflow_base()):
        def setup(self):
            self._scenario = transaction.atomic()
            self._scenario.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self._scenario.__exit__(None, None, None)

        def before_call(self, case):
            _as(case, who)

        def call(self, case, **kwargs):
            # A savepoint per step: a request that failed in the database (a 500, which
            # the checks report) leaves the rest of the scenario usable.
            with transaction.atomic():
                response = super().call(case, **kwargs)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                return response

        def validate_response(self, response, case, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Workflow.run(settings=WORKFLOW_SETTINGS)


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

    failures = _fuzz_one("/api/v1/services/", "GET", "admin")

    assert any("ServerError" in message for message in failures), failures


def test_a_leak_of_another_customers_invoice_makes_the_fuzz_fail(world, monkeypatch):
    # Forget the tenant rule on one endpoint: every invoice to everyone.
    monkeypatch.setattr(InvoiceViewSet, "get_queryset", lambda self: Invoice.objects.all())

    failures = _fuzz_one("/api/v1/invoices/", "GET", "customer")

    assert any("another customer's data" in message for message in failures), failures


def test_an_unmanaged_customers_credit_shown_to_an_account_manager_makes_the_fuzz_fail(
    world, monkeypatch
):
    # Forget the managed-customers rule on one endpoint: every credit (in the list's own
    # order) to every manager.
    monkeypatch.setattr(CreditViewSet, "get_queryset", lambda self: CreditViewSet.queryset.all())

    failures = _fuzz_one("/api/v1/credits/", "GET", "account_manager")

    assert any("a customer they do not manage" in message for message in failures), failures


def test_the_unbroken_operations_pass_the_same_run(world):
    assert _fuzz_one("/api/v1/services/", "GET", "admin") == []
    assert _fuzz_one("/api/v1/invoices/", "GET", "customer") == []
    assert _fuzz_one("/api/v1/credits/", "GET", "account_manager") == []
