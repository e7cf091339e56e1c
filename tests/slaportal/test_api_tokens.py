"""API tokens at /api/v1/auth/token/: created with a username and password (or signed
in), shown once, stored only as a hash, replaced on the next creation, revoked by DELETE
and by a password change, expired after API_TOKEN_TTL_DAYS, refused for a deactivated
customer, and locked out like the login page after repeated failures."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.support.api_helpers import API, api_token_for, client_for
from tests.support.factories import PASSWORD

URL = f"{API}auth/token/"


def _with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_script_gets_a_token_with_username_and_password_and_uses_it(customer_user, contract):
    created = APIClient().post(
        URL, {"username": customer_user.username, "password": PASSWORD}, format="json"
    )

    assert created.status_code == 201, created.content
    key = created.json()["token"]
    # Only a hash is stored: the key itself is nowhere in the database.
    stored = AuthToken.objects.get(user=customer_user)
    assert key not in (stored.digest, stored.token_key) and key.startswith(stored.token_key)
    listed = _with_token(key).get(f"{API}contracts/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [contract.pk]


def test_a_wrong_password_is_a_400_with_a_message_and_no_token(customer_user):
    response = APIClient().post(
        URL, {"username": customer_user.username, "password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Unable to sign in with that username and password."]
    }
    assert not AuthToken.objects.filter(user=customer_user).exists()


def test_missing_credentials_are_field_errors(db):
    response = APIClient().post(URL, {"username": "someone"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


def test_repeated_failures_lock_the_username_out_with_a_friendly_429(settings, customer_user):
    settings.AXES_FAILURE_LIMIT = 3
    client = APIClient()
    wrong = {"username": customer_user.username, "password": "wrong"}
    statuses = [client.post(URL, wrong, format="json").status_code for _ in range(3)]
    locked = client.post(
        URL, {"username": customer_user.username, "password": PASSWORD}, format="json"
    )

    assert statuses[:2] == [400, 400]
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.json()["detail"]
    assert not AuthToken.objects.filter(user=customer_user).exists()


def test_a_signed_in_person_creates_one_without_a_password_and_a_new_one_replaces_it(
    agent,
):
    client = client_for(agent)
    first = client.post(URL, {}, format="json").json()["token"]
    second = client.post(URL, {}, format="json").json()["token"]

    assert first != second
    assert AuthToken.objects.filter(user=agent).count() == 1
    assert _with_token(first).get(f"{API}customers/").status_code == 401
    assert _with_token(second).get(f"{API}customers/").status_code == 200


def test_get_says_whether_a_token_exists_but_never_shows_the_key(agent):
    client = client_for(agent)
    assert client.get(URL).json() == {"exists": False, "created": None, "expires": None}

    key = client.post(URL, {}, format="json").json()["token"]
    state = client.get(URL)

    assert state.status_code == 200
    assert state.json()["exists"] is True and state.json()["created"]
    assert key not in state.content.decode()


def test_delete_revokes_the_callers_token_which_then_gives_401(agent, operations):
    key = client_for(agent).post(URL, {}, format="json").json()["token"]
    other_key = client_for(operations).post(URL, {}, format="json").json()["token"]
    client = _with_token(key)

    assert client.delete(URL).status_code == 204
    assert client.get(f"{API}customers/").status_code == 401
    assert _with_token(other_key).get(f"{API}customers/").status_code == 200


def test_anonymous_callers_cannot_see_or_revoke_tokens(db):
    assert APIClient().get(URL).status_code in (401, 403)
    assert APIClient().delete(URL).status_code in (401, 403)


def test_a_token_of_a_deactivated_customer_stops_working(customer_user, contract):
    key = api_token_for(customer_user)
    customer = customer_user.customer
    customer.is_active = False
    customer.save(update_fields=["is_active"])

    assert _with_token(key).get(f"{API}contracts/").status_code == 401
    assert _with_token(key).get(f"{API}tickets/").status_code == 401


def test_a_deactivated_person_gets_no_token(customer_user):
    customer_user.is_active = False
    customer_user.save(update_fields=["is_active"])

    response = APIClient().post(
        URL, {"username": customer_user.username, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 400


def test_a_token_expires_after_the_configured_days_and_says_when(settings, agent):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(days=30)}
    made_at = timezone.now()
    created = client_for(agent).post(URL, {}, format="json").json()
    key = created["token"]

    assert created["expires"].startswith(str((made_at + timedelta(days=30)).date()))
    with time_machine.travel(made_at + timedelta(days=29), tick=False):
        assert _with_token(key).get(f"{API}customers/").status_code == 200
    with time_machine.travel(made_at + timedelta(days=30, minutes=1), tick=False):
        assert _with_token(key).get(f"{API}customers/").status_code == 401
        assert client_for(agent).get(URL).json()["exists"] is False


def test_a_password_change_revokes_the_token(client, customer_user, contract):
    key = api_token_for(customer_user)
    assert _with_token(key).get(f"{API}contracts/").status_code == 200
    client.force_login(customer_user, backend="contracts.backends.PortalBackend")

    changed = client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-Passphrase-42",
            "new_password2": "a-new-Passphrase-42",
        },
    )

    assert changed.status_code == 302
    assert _with_token(key).get(f"{API}contracts/").status_code == 401
    assert not AuthToken.objects.filter(user=customer_user).exists()


def test_a_password_reset_revokes_the_token_too(customer_user):
    key = api_token_for(customer_user)
    customer_user.set_password("another-Passphrase-42")
    customer_user.save()

    assert _with_token(key).get(f"{API}contracts/").status_code == 401


def test_saving_a_person_without_a_new_password_keeps_the_token(customer_user, contract):
    key = api_token_for(customer_user)
    customer_user.first_name = "Renamed"
    customer_user.save()

    assert _with_token(key).get(f"{API}contracts/").status_code == 200
