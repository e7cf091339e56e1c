"""The page matrix's machinery (tests/slaportal/test_page_matrix.py holds its rules): the
HTML pages read from the URL conf, a rule's shape and the requests it makes, what each
expected answer accepts, and the one set of data every request runs against.

Answers: ``ok`` (the page itself: 200, or the redirect its rule documents; for a POST
anything past the authority checks), ``403``, ``404`` (not among the objects the caller
may see) and ``login`` (an anonymous visitor is sent to the login page).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

ROLES = (
    "anonymous",
    "customer",
    "customer_admin",
    "agent",
    "operations",
    "account_manager",
    "admin",
)
OK, NO, HIDDEN, LOGIN = "ok", "403", "404", "login"
SIDES = ("own", "foreign")
# The REST API has its own matrix (test_authority_matrix.py), the Django admin its own
# permission model (one test of its own in the page matrix), the API's docs and schema
# live under it; static and media files are no pages.
# Not pages: the API (its own matrix), the admin, files, and machine webhooks (hooks/:
# a bearer token per monitoring source, tested in tests/outages/test_alert_intake.py).
NOT_PAGES = ("api/v1/", "admin/", "static/", "media/", "hooks/")
# Where the second-factor middleware sends a session that has not given its code.
SECOND_FACTOR = "/accounts/two-factor/"
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
# The world's instant: June is over in every zone (its credits exist), the help desk is
# open (16:00 in New York, a Wednesday), and June's statements are not owed yet (a day's
# grace), so /healthz answers healthy.
NOW = datetime(2026, 7, 1, 20, tzinfo=UTC)
MAY, APRIL = date(2026, 5, 1), date(2026, 4, 1)
Expect = str | tuple[str, str]  # one answer for both sides, or (own, foreign)
Expectations = dict[str, Expect]


def roles(default: str = NO, anonymous: str = LOGIN, **named: str) -> Expectations:
    """Each role's answer: ``default`` unless named; anonymous visitors sent to log in."""
    return {**dict.fromkeys(ROLES, default), "anonymous": anonymous, **named}


def public(expect: str = OK) -> Expectations:
    return dict.fromkeys(ROLES, expect)


def obj(own: Expectations, foreign: Expectations) -> Expectations:
    """Answers for the own customer's object and for another customer's."""
    return {role: (own[role], foreign[role]) for role in ROLES}


# ---------------------------------------------------------------- pages of the URL conf


@dataclass(frozen=True)
class Page:
    name: str  # the pattern's name (its route when it has none)
    route: str  # the whole route, includes joined: "portal/tickets/<int:ticket_id>/"

    @property
    def parameters(self) -> list[str]:
        return PARAMETER.findall(self.route)

    def url(self, values: dict[str, object]) -> str:
        return "/" + PARAMETER.sub(lambda m: str(values[m.group(1)]), self.route)


def _walk(resolver: URLResolver, prefix: str) -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, route)
        else:
            yield route, entry


def html_pages(resolver: URLResolver | None = None) -> dict[str, Page]:
    """Every page of the URL conf by name; a name given twice is the first pattern (the
    one Django resolves; ``accounts/password_reset/`` is overridden that way)."""
    pages: dict[str, Page] = {}
    for route, pattern in _walk(resolver or get_resolver(), ""):
        if not route.startswith(NOT_PAGES):
            name = pattern.name or route
            pages.setdefault(name, Page(name, route))
    return pages


def missing_rules(pages: dict[str, Page], rules: dict[str, object]) -> list[str]:
    return sorted(set(pages) - set(rules))


def stale_rules(pages: dict[str, Page], rules: dict[str, object]) -> list[str]:
    return sorted(set(rules) - set(pages))


# ---------------------------------------------------------------- rules and their requests


@dataclass(frozen=True)
class Ref:
    """A form field that names a world object: the own customer's, then the other's."""

    key: str


@dataclass(frozen=True)
class Rule:
    expect: Expectations
    method: str = "GET"
    body: dict = field(default_factory=dict)
    # What the page answers when it works; None (actions): anything past the checks.
    ok: tuple[int, ...] | None = (200,)
    # A path parameter's world object, where it is not the one named like the parameter.
    ids: dict[str, str] = field(default_factory=dict)
    # A client of its own: the request ends the session it signs in with.
    fresh: bool = False


def get(expect: Expectations, **kw) -> Rule:
    return Rule(expect, **kw)


def post(expect: Expectations, body: dict | None = None, **kw) -> Rule:
    return Rule(expect, method="POST", body=body or {}, ok=kw.pop("ok", None), **kw)


@dataclass(frozen=True)
class Case:
    role: str
    side: str  # "own", "foreign", or "-" for a page of no customer's object
    url: str
    body: dict
    expect: str


def cases(rule: Rule, page: Page, world: World) -> Iterator[Case]:
    """The requests a rule makes: each role, on the own and the other customer's object
    when the path or the form names one (else once)."""
    keys = [rule.ids.get(p, p) for p in page.parameters]
    keys += [v.key for v in rule.body.values() if isinstance(v, Ref)]
    sides = (0, 1) if any(world.owned(key) for key in keys) else (0,)
    for role in ROLES:
        expected = rule.expect[role]
        if isinstance(expected, tuple) and sides == (0,):
            raise AssertionError(f"{page.name}: own/foreign answers for no customer's page")
        for side in sides:
            values = {p: world.ids[rule.ids.get(p, p)][side] for p in page.parameters}
            body = {
                k: world.ids[v.key][side] if isinstance(v, Ref) else v for k, v in rule.body.items()
            }
            yield Case(
                role=role,
                side=SIDES[side] if sides == (0, 1) else "-",
                url=page.url(values),
                body=body,
                expect=expected[side] if isinstance(expected, tuple) else expected,
            )


# ---------------------------------------------------------------- what an answer accepts


def is_login_redirect(response: HttpResponse) -> bool:
    login = resolve_url(settings.LOGIN_URL)
    return response.status_code == 302 and response["Location"].startswith(f"{login}?next=")


def is_second_factor_redirect(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"].startswith(SECOND_FACTOR)


def meets(response: HttpResponse, expect: str, ok: tuple[int, ...] | None) -> bool:
    """``ok`` lists the statuses a page answers when it works (a GET page: 200 unless its
    rule documents a redirect); ``None`` (an action) is anything past the authority
    checks: not refused, not hidden, not sent to sign in (a password or a second
    factor), no server error."""
    status = response.status_code
    if expect == LOGIN:
        return is_login_redirect(response)
    if expect == OK:
        if is_login_redirect(response) or is_second_factor_redirect(response):
            return False
        if ok is not None:
            return status in ok
        return status < 500 and status not in (401, 403, 404, 405)
    return status == int(expect)


def ask(client: Client, method: str, url: str, body: dict | None = None) -> HttpResponse:
    """One request in a transaction rolled back after it: nothing it writes is seen by the
    next one, so no answer depends on the order of the requests or tests."""
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, body or {})
        if response.streaming:  # a download: read it here, while its file is open
            # (the test client closes it once read, without the request_finished signal
            # that would close the database connection, and this transaction with it)
            b"".join(response.streaming_content)
        transaction.set_rollback(True)
    return response


def signed_in(user) -> Client:
    """A client signed in as ``user`` (anonymous for None), past the second factor where
    the role needs one, as its owner is after entering their code."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from slaportal.twofactor import needs_second_factor

    # A crash is a 500 to record with the rest, not an exception that stops the matrix.
    client = Client(raise_request_exception=False)
    if user is not None:
        # The backend that serves sessions (settings.AUTHENTICATION_BACKENDS).
        client.force_login(user, backend="contracts.backends.PortalBackend")
        if needs_second_factor(user):
            device, _ = TOTPDevice.objects.get_or_create(
                user=user, name="Page matrix", defaults={"confirmed": True}
            )
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
    return client


# ---------------------------------------------------------------- the world


@dataclass
class World:
    """The people of each role and, per object a path names, the (own, foreign) ids: the
    first of the customer the caller belongs to or manages, the second of another one.
    Objects of no customer (webhooks, a public incident) give the same id twice."""

    people: dict[str, object] = field(default_factory=dict)
    ids: dict[str, tuple[object, object]] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)

    def owned(self, key: str) -> bool:
        own, foreign = self.ids[key]
        return own != foreign


def build_world() -> World:
    """Two customers, each with a contract, an outage only they had, a credit applied by a
    credit note to an invoice, a pending credit, an issued statement, a failed statement
    run, a ticket with an attachment and a person; the account manager manages the own
    customer only. One public outage and a webhook endpoint with a delivery too."""
    from outages.alert_config import RouteSpec, alert_route_create, alert_source_create
    from outages.models import ReissueRequest
    from outages.services import outage_record
    from outbox.models import WebhookDelivery
    from outbox.services import webhook_emit, webhook_endpoint_create
    from status.models import Subscriber
    from tests.support.two_customers import two_customers

    people, sides = two_customers(NOW)
    world = World(people={"anonymous": None, **people})
    endpoint = webhook_endpoint_create(
        actor=world.people["admin"],
        url="https://billing.example.test/hooks",
        events=["credit.approved"],
        now=NOW,
    )
    ids: dict[str, list] = {}
    for made in sides.values():
        reissue = ReissueRequest.objects.create(
            contract=made.contract, month=MAY, reason="Outage changed after May ended"
        )
        for key, value in {
            "contract_id": made.contract.pk,
            "credit_id": made.pending.pk,
            "invoice_id": made.note.invoice_id,
            "note_id": made.note.pk,
            "outage_id": made.outage.pk,
            "user_id": made.person.pk,
            "statement_id": made.statement.pk,
            "run_id": made.run.pk,
            "ticket_id": made.ticket.pk,
            "attachment_id": made.attachment.pk,
            "request_id": reissue.pk,
        }.items():
            ids.setdefault(key, []).append(value)
    service = sides["foreign"].service
    # On the other customer's service (the last made), for all its customers: public.
    public = outage_record(
        service=service,
        started_at=datetime(2026, 7, 1, 12, tzinfo=UTC),
        ended_at=datetime(2026, 7, 1, 13, tzinfo=UTC),
        category="internal",
        title="Publishing unavailable",
        actor=None,
        now=NOW,
    )
    source, _ = alert_source_create(name="Page matrix", actor=None, now=NOW)
    alert_route = alert_route_create(
        spec=RouteSpec(
            source=None, label="service", value="matrix", service=service, category="internal"
        ),
        actor=None,
        now=NOW,
    )
    webhook_emit(event="credit.approved", data={"id": 1}, dedupe_key="page-matrix", now=NOW)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, dedupe_key="page-matrix")
    subscriber = Subscriber.objects.create(
        email="matrix@example.test", token="page-matrix-subscriber", created_at=NOW
    )
    subscriber.services.add(service)
    world.ids = {key: (own, foreign) for key, (own, foreign) in ids.items()}
    world.ids.update(
        {
            "public_outage_id": (public.pk, public.pk),
            "endpoint_id": (endpoint.pk, endpoint.pk),
            "delivery_id": (delivery.pk, delivery.pk),
            # A reset link that is no longer valid: the page says so (a 200).
            "uidb64": ("MQ", "MQ"),
            "token": ("expired-link", "expired-link"),
            # A status subscriber's e-mailed links: their token is the key, no login.
            "subscriber_token": (subscriber.token, subscriber.token),
            "source_id": (source.pk, source.pk),
            "route_id": (alert_route.pk, alert_route.pk),
        }
    )
    return world
