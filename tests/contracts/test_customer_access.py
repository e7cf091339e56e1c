"""Who may sign in: a deactivated customer's people are shut out; invited people can
reset their password."""

from __future__ import annotations

import re

from django.core import mail

from tests.support.factories import PASSWORD


def _login(client, user):
    return client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})


def test_people_of_a_deactivated_customer_cannot_sign_in(client, customer_user):
    assert _login(client, customer_user).status_code == 302
    assert client.get("/portal/").status_code == 200
    customer = customer_user.customer
    customer.is_active = False
    customer.save(update_fields=["is_active"])
    # The open session stops working at once...
    response = client.get("/portal/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # ...and signing in again is refused with the usual message.
    response = _login(client, customer_user)
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()


def test_an_invited_person_without_a_password_can_use_forgotten_password(
    client, customer, celery_eager, django_capture_on_commit_callbacks
):
    from contracts.services import customer_user_create

    person = customer_user_create(
        customer=customer, username="new@acme.example", email="new@acme.example"
    )
    assert not person.has_usable_password()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        response = client.post("/accounts/password_reset/", {"email": "new@acme.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    response = client.post(
        form_url,
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )
    assert response.status_code == 302
    response = client.post(
        "/accounts/login/", {"username": "new@acme.example", "password": "a-long-new-passphrase"}
    )
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 200
