"""/api/v1/people/: the portal's people pages through the API, for customer admins."""

from __future__ import annotations

import pytest
from django.core import mail

from contracts.models import User
from tests.support.api_helpers import API, client_for
from tests.support.factories import CustomerUserFactory

pytestmark = pytest.mark.django_db

URL = f"{API}people/"


@pytest.fixture
def colleague(customer):
    return CustomerUserFactory(customer=customer, first_name="Cleo", last_name="Colleague")


@pytest.fixture
def foreigner(other_customer):
    return CustomerUserFactory(customer=other_customer)


def test_a_customer_admin_lists_only_their_organisation(customer_admin, colleague, foreigner):
    response = client_for(customer_admin).get(URL)

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {customer_admin.pk, colleague.pk}


def test_another_organisations_person_is_a_404(customer_admin, foreigner):
    client = client_for(customer_admin)

    assert client.get(f"{URL}{foreigner.pk}/").status_code == 404
    assert client.patch(f"{URL}{foreigner.pk}/", {"role": "admin"}).status_code == 404
    assert client.post(f"{URL}{foreigner.pk}/invite/").status_code == 404
    foreigner.refresh_from_db()
    assert foreigner.customer_role == "user"


@pytest.mark.parametrize("who", ["customer_user", "agent", "admin_user"])
def test_customer_users_and_staff_are_refused(who, request, colleague):
    client = client_for(request.getfixturevalue(who))

    assert client.get(URL).status_code == 403
    assert client.patch(f"{URL}{colleague.pk}/", {"role": "admin"}).status_code == 403
    new = {"email": "x@example.test", "first_name": "X", "last_name": "Y"}
    assert client.post(URL, new).status_code == 403


def test_adding_a_person_invites_them(
    customer_admin, celery_eager, django_capture_on_commit_callbacks
):
    # The invitation goes through the outbox: queued in the request, sent after commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(customer_admin).post(
            URL,
            {"email": "dana@acme.test", "first_name": "Dana", "last_name": "Doe", "role": "user"},
            format="json",
        )

    assert response.status_code == 202, response.content
    assert response.json()["email"] == "dana@acme.test"
    person = User.objects.get(email="dana@acme.test")
    assert (person.customer, person.customer_role) == (customer_admin.customer, "user")
    assert [m.to for m in mail.outbox] == [["dana@acme.test"]]


def test_an_address_already_among_your_people_is_a_field_error(customer_admin, colleague):
    response = client_for(customer_admin).post(
        URL,
        {"email": colleague.email, "first_name": "A", "last_name": "B"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"email": [f"{colleague.email} is already one of your people."]}


def test_the_answer_never_tells_whether_an_address_has_an_account_elsewhere(
    customer_admin, admin_user, celery_eager, django_capture_on_commit_callbacks
):
    client = client_for(customer_admin)
    new = {"email": "nobody.yet@acme.test", "first_name": "N", "last_name": "Y"}
    staff = {"email": admin_user.email, "first_name": "N", "last_name": "Y"}

    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post(URL, new, format="json")
        existing = client.post(URL, staff, format="json")

    assert (invited.status_code, existing.status_code) == (202, 202)
    assert invited.json()["detail"].replace(new["email"], "X") == existing.json()["detail"].replace(
        staff["email"], "X"
    )
    # Nothing changed for the staff account; its owner is told instead.
    admin_user.refresh_from_db()
    assert admin_user.customer_id is None
    notice = [m for m in mail.outbox if m.to == [admin_user.email]]
    assert len(notice) == 1 and "tried to add you" in notice[0].subject


def test_role_change_deactivate_and_reactivate(customer_admin, colleague):
    client = client_for(customer_admin)

    promoted = client.patch(f"{URL}{colleague.pk}/", {"role": "admin"}, format="json")
    off = client.patch(f"{URL}{colleague.pk}/", {"is_active": False}, format="json")

    assert promoted.json()["role"] == "admin"
    assert off.json()["is_active"] is False
    assert client.post(f"{URL}{colleague.pk}/invite/").status_code == 400
    on = client.patch(f"{URL}{colleague.pk}/", {"is_active": True}, format="json")
    assert on.json()["is_active"] is True
    assert client.post(f"{URL}{colleague.pk}/invite/").status_code == 204


def test_an_admin_cannot_demote_or_deactivate_themselves(customer_admin):
    client = client_for(customer_admin)

    response = client.patch(f"{URL}{customer_admin.pk}/", {"is_active": False}, format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["You cannot deactivate or demote yourself."]}
    customer_admin.refresh_from_db()
    assert customer_admin.is_active
