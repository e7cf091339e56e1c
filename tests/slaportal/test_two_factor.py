"""Account managers and administrators sign in with a second factor (slaportal/twofactor.py,
contracts/two_factor.py): an authenticator app (TOTP) or a single-use recovery code. The
first sign-in sets the app up; until the code is given, pages lead to the code page and
the API refuses the session. Agents and customers sign in with their password alone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _two_factor_on(settings):
    settings.REQUIRE_TWO_FACTOR = True


def _sign_in(user, next_url: str = "") -> tuple[Client, object]:
    client = Client()
    response = client.post(
        "/accounts/login/" + (f"?next={next_url}" if next_url else ""),
        {"username": user.username, "password": PASSWORD, "next": next_url},
    )
    return client, response


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _later(seconds: int = 31):
    """A new TOTP step (a code is good once) past django-otp's wait after a wrong code."""
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False)


def _set_up(client: Client, user) -> tuple[TOTPDevice, list[str]]:
    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.post("/accounts/two-factor/setup/", {"code": _code(device), "next": "/am/"})
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", page.content.decode())
    return TOTPDevice.objects.get(pk=device.pk), codes


def test_an_account_manager_without_an_app_is_sent_to_set_one_up(account_manager):
    client, signed_in = _sign_in(account_manager, "/am/")

    page = client.get(signed_in.url, follow=True)

    assert page.redirect_chain[-1][0].startswith("/accounts/two-factor/setup/?next=")
    body = page.content.decode()
    assert "Set up two-factor sign-in" in body
    assert "<svg" in body  # the QR code
    assert re.search(r'data-testid="totp-key">[A-Z2-7 ]{20,}<', body)
    # No way round it: another page, the admin, the API.
    assert client.get("/credits/").status_code == 302
    assert client.get("/admin/").status_code == 302
    refused = client.get("/api/v1/credits/")
    assert refused.status_code == 403
    assert "second factor" in refused.json()["detail"]


def test_setting_up_the_app_gives_recovery_codes_once_and_opens_the_portal(account_manager):
    client, _ = _sign_in(account_manager)
    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=account_manager, confirmed=False)

    wrong = client.post("/accounts/two-factor/setup/", {"code": "000000"})
    assert "That code does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    with _later():
        done = client.post("/accounts/two-factor/setup/", {"code": _code(device), "next": "/am/"})
        codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())

        assert len(set(codes)) == 10
        assert "they are shown only now" in done.content.decode()
        assert TOTPDevice.objects.get(pk=device.pk).confirmed
        assert client.get("/am/").status_code == 200
        assert client.get("/api/v1/credits/").status_code == 200
    entry = AuditEntry.objects.get(action="two_factor_set_up")
    assert entry.actor == account_manager


def test_the_next_sign_in_asks_for_the_code_and_a_right_one_lets_them_in(account_manager):
    first, _ = _sign_in(account_manager)
    device, _codes = _set_up(first, account_manager)

    with _later():
        client, signed_in = _sign_in(account_manager, "/am/")
        asked = client.get(signed_in.url)
        assert asked.url.startswith("/accounts/two-factor/verify/?next=")
        assert client.get("/am/").status_code == 302

        wrong = client.post("/accounts/two-factor/verify/", {"code": "123456", "next": "/am/"})
        assert "That code is not right" in wrong.content.decode()
    # django-otp makes a guesser wait after a wrong code; later the right one works.
    with _later(62):
        right = client.post("/accounts/two-factor/verify/", {"code": _code(device), "next": "/am/"})
        assert right.status_code == 302 and right.url == "/am/"
        assert client.get("/am/").status_code == 200


def test_a_recovery_code_works_once(account_manager):
    first, _ = _sign_in(account_manager)
    _device, codes = _set_up(first, account_manager)

    client, _ = _sign_in(account_manager)
    used = client.post("/accounts/two-factor/verify/", {"code": codes[0], "next": "/am/"})
    assert used.status_code == 302 and used.url == "/am/"
    assert StaticToken.objects.filter(device__user=account_manager).count() == 9

    with _later(5):
        again, _ = _sign_in(account_manager)
        reused = again.post("/accounts/two-factor/verify/", {"code": codes[0], "next": "/am/"})
    assert reused.status_code == 200
    assert again.get("/am/").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(account_manager):
    client, _ = _sign_in(account_manager)
    _device, old = _set_up(client, account_manager)

    renewed = client.post("/accounts/two-factor/recovery-codes/")
    new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", renewed.content.decode())

    assert len(new) == 10 and not set(new) & set(old)
    assert "Your previous recovery codes no longer work" in renewed.content.decode()
    assert AuditEntry.objects.filter(action="two_factor_codes_renewed").count() == 1
    with _later(5):
        other, _ = _sign_in(account_manager)
        assert other.post("/accounts/two-factor/verify/", {"code": old[0]}).status_code == 200
    with _later(10):  # after the wait that follows a wrong code
        assert other.post("/accounts/two-factor/verify/", {"code": new[0]}).status_code == 302


def test_administrators_need_it_too_and_agents_and_customers_do_not(
    admin_user, agent, customer_user
):
    admin, _ = _sign_in(admin_user)
    assert admin.get("/admin/").status_code == 302

    for person, home in ((agent, "/desk/"), (customer_user, "/portal/")):
        client, _ = _sign_in(person)
        assert client.get(home).status_code == 200
        # The pages are not theirs.
        assert client.get("/accounts/two-factor/setup/").status_code == 404


def test_the_code_page_sends_nobody_to_another_site(account_manager):
    first, _ = _sign_in(account_manager)
    device, _ = _set_up(first, account_manager)

    with _later():
        client, _ = _sign_in(account_manager)
        response = client.post(
            "/accounts/two-factor/verify/",
            {"code": _code(device), "next": "https://evil.example/phish"},
        )

    assert response.status_code == 302 and response.url == "/"


def test_an_api_token_for_an_account_manager_needs_the_code(account_manager):
    first, _ = _sign_in(account_manager)
    device, _ = _set_up(first, account_manager)
    url = "/api/v1/auth/token/"
    credentials = {"username": account_manager.username, "password": PASSWORD}

    with _later():
        missing = APIClient().post(url, credentials, format="json")
        wrong = APIClient().post(url, {**credentials, "otp_code": "000000"}, format="json")
    with _later(62):
        made = APIClient().post(url, {**credentials, "otp_code": _code(device)}, format="json")

    assert missing.status_code == 400 and "second factor" in missing.json()["otp_code"][0]
    assert wrong.status_code == 400 and "not right" in wrong.json()["otp_code"][0]
    assert made.status_code == 201
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {made.json()['token']}")
    assert script.get("/api/v1/credits/").status_code == 200


def test_with_the_setting_off_nobody_is_asked(settings, account_manager):
    settings.REQUIRE_TWO_FACTOR = False
    client, _ = _sign_in(account_manager)

    assert client.get("/am/").status_code == 200
