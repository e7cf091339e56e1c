"""API tokens at /api/v1/auth/token/: created with a username and password (or signed
in), shown once, replaced on the next creation, revoked by DELETE, refused for a
deactivated customer, and locked out like the login page after repeated failures."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.support.api_helpers import API, client_for
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
    assert Token.objects.get(user=customer_user).key == key
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
    assert not Token.objects.filter(user=customer_user).exists()


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
    assert not Token.objects.filter(user=customer_user).exists()


def test_a_signed_in_person_creates_one_without_a_password_and_a_new_one_replaces_it(
    agent,
):
    client = client_for(agent)
    first = client.post(URL, {}, format="json").json()["token"]
    second = client.post(URL, {}, format="json").json()["token"]

    assert first != second
    assert list(Token.objects.filter(user=agent).values_list("key", flat=True)) == [second]
    assert _with_token(first).get(f"{API}customers/").status_code == 401
    assert _with_token(second).get(f"{API}customers/").status_code == 200


def test_get_says_whether_a_token_exists_but_never_shows_the_key(agent):
    client = client_for(agent)
    assert client.get(URL).json() == {"exists": False, "created": None}

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
    key = Token.objects.create(user=customer_user).key
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
