"""The security review (issue 8 part 5), a test per item: staff sessions end after 30
idle minutes; production cookies are secure and HSTS is on; every POST form carries
the CSRF token and a POST without it is refused; attachments are downloads, never
sniffed. (``check --deploy`` clean: tests/slaportal/test_settings.py.)"""

from __future__ import annotations

import json
import re
import secrets
from collections import deque
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from contracts.models import User
from tests.support.page_helpers import sign_in
from tests.support.processes import manage

START = datetime(2026, 7, 6, 9, tzinfo=UTC)


# ---------------------------------------------------------------- idle staff sessions


def test_a_staff_session_ends_after_30_idle_minutes(db, operations, settings):
    client = Client()
    with time_machine.travel(START, tick=False):
        assert sign_in(client, operations).request["PATH_INFO"] == "/ops/"
        # The sign-in itself starts the idle clock.
        assert client.session.get_expiry_age() == 30 * 60
        assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 30 * 60
    with time_machine.travel(START + timedelta(minutes=31), tick=False):
        response = client.get("/ops/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_busy_staff_session_stays_open(db, operations):
    client = Client()
    with time_machine.travel(START, tick=False):
        sign_in(client, operations)
    # Each request moves the expiry: three requests 25 minutes apart keep it alive.
    for minutes in (25, 50, 75):
        with time_machine.travel(START + timedelta(minutes=minutes), tick=False):
            assert client.get("/ops/").status_code == 200


def test_a_customer_session_keeps_the_ordinary_age(db, customer_user, settings):
    client = Client()
    with time_machine.travel(START, tick=False):
        sign_in(client, customer_user)
        assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    with time_machine.travel(START + timedelta(minutes=31), tick=False):
        assert client.get("/portal/").status_code == 200


def test_an_api_token_call_by_staff_starts_no_session(db, operations):
    from tests.support.api_helpers import api_token_for

    token = api_token_for(operations)
    response = Client().get("/api/v1/contracts/", headers={"Authorization": f"Token {token}"})
    assert response.status_code == 200
    assert "sessionid" not in response.cookies


# ---------------------------------------------------------------- production settings


def test_production_cookies_are_secure_and_hsts_is_on():
    script = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SESSION_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_CONTENT_TYPE_NOSNIFF, "
        "s.STAFF_SESSION_IDLE_SECONDS, s.LOG_FORMAT]))"
    )
    result = manage(
        "shell",
        "-c",
        script,
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="portal.example.com",
        DJANGO_SETTINGS_MODULE="slaportal.settings",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == [True, True, True, True, 31536000, True, True, 1800, "json"]


def test_hsts_and_nosniff_headers_are_sent_over_https(db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


# check --deploy with production settings (which load the request-id and idle-session
# middleware and the JSON log format) is clean: tests/slaportal/test_settings.py,
# test_production_settings_pass_check_deploy_with_no_warnings.


# ---------------------------------------------------------------- CSRF on every form

SKIP = ("/admin/", "/api/", "/accounts/logout", "/static/", "/media/")
MAX_PAGES_PER_ROLE = 80
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
POST = re.compile(r"""method\s*=\s*["']?post""", re.I)
ACTION = re.compile(r"""action\s*=\s*["']([^"']*)["']""", re.I)
HREF = re.compile(r"""href\s*=\s*["']([^"'#]+)""", re.I)
TOKEN = re.compile(r"""name\s*=\s*["']csrfmiddlewaretoken["']""", re.I)


def _shape(path: str) -> str:
    """One page per kind: /ops/outages/12/ and /ops/outages/13/ look the same."""
    return re.sub(r"\d+", "N", path)


def _crawl(client: Client, start: str) -> dict[str, list[str]]:
    """Every page reachable by links from ``start`` (one per shape): {page: [post forms]}."""
    seen_shapes: set[str] = set()
    queue = deque([start])
    pages: dict[str, list[str]] = {}
    while queue and len(pages) < MAX_PAGES_PER_ROLE:
        path = queue.popleft()
        if _shape(path) in seen_shapes:
            continue
        seen_shapes.add(_shape(path))
        response = client.get(path)
        if response.status_code in (301, 302) and response["Location"].startswith("/"):
            queue.append(urlsplit(response["Location"]).path)
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        pages[path] = [form for form in FORM.findall(html) if POST.search(form.split(">")[0])]
        for href in HREF.findall(html):
            target = urlsplit(urljoin(path, href.replace("&amp;", "&")))
            if target.netloc or not target.path.startswith("/"):
                continue
            if target.path.startswith(SKIP) or target.path.endswith((".pdf", ".css", ".js")):
                continue
            if "/files/" in target.path:
                continue
            queue.append(target.path)
    return pages


@pytest.fixture
def demo(catalog, settings, tmp_path, django_capture_on_commit_callbacks, celery_eager):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return {
        "agent": "agent@provider.example",
        "operations": "ops@provider.example",
        "account_manager": "am@provider.example",
        "admin": "admin@provider.example",
        "customer_admin": "admin@acme.example",
        "customer_user": "user@acme.example",
    }


def test_every_post_form_of_every_page_carries_the_csrf_token_and_needs_it(demo):
    actions: dict[str, tuple[str, str]] = {}  # shape → (action, role)
    checked = 0
    for role, username in demo.items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        pages = _crawl(client, "/")
        assert len(pages) > 3, f"the crawl of {role} found too few pages: {list(pages)}"
        for page, forms in pages.items():
            for form in forms:
                assert TOKEN.search(form), f"{role}: a POST form on {page} has no CSRF token"
                checked += 1
                match = ACTION.search(form.split(">")[0])
                action = urljoin(page, match.group(1).replace("&amp;", "&")) if match else page
                actions.setdefault(_shape(urlsplit(action).path), (action, username))
    assert checked >= 20, f"only {checked} POST forms found"
    # The sign-in form too (anonymous).
    anonymous = Client().get(reverse("login")).content.decode()
    assert TOKEN.search(FORM.search(anonymous).group(0))

    # The same forms posted without the token are refused before any view runs.
    refused = []
    for action, username in actions.values():
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(User.objects.get(username=username))
        refused.append((action, strict.post(action, {}).status_code))
    assert refused and all(status == 403 for _, status in refused), refused
    assert Client(enforce_csrf_checks=True).post(reverse("login"), {}).status_code == 403


# ---------------------------------------------------------------- attachments


@pytest.fixture
def attached(customer_user, ticket_service, settings, tmp_path):
    from tests.support.factories import uploaded_file
    from tickets.services import ticket_file

    settings.MEDIA_ROOT = tmp_path
    ticket = ticket_file(
        actor=customer_user,
        service=ticket_service,
        subject="Broken page",
        description="See the file.",
        severity=3,
        attachments=[uploaded_file("page.html.txt", content_type="text/html")],
    )
    return ticket, ticket.attachments.get()


def _assert_download(response, filename: str) -> None:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert filename in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "text/plain"  # as accepted, not as the client said


def test_attachments_are_downloads_never_sniffed_on_every_route(
    client, attached, customer_user, agent
):
    ticket, attachment = attached
    client.force_login(customer_user)
    _assert_download(
        client.get(f"/portal/tickets/{ticket.pk}/files/{attachment.pk}/"), "page.html.txt"
    )
    _assert_download(
        client.get(f"/api/v1/tickets/{ticket.pk}/attachments/{attachment.pk}/"), "page.html.txt"
    )
    client.force_login(agent)
    _assert_download(
        client.get(f"/desk/tickets/{ticket.pk}/files/{attachment.pk}/"), "page.html.txt"
    )
