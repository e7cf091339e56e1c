"""A customer admin manages their organisation's people: invitations, roles, deactivation;
another organisation's people stay out of reach."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from contracts.models import User
from tests.support.factories import CustomerUserFactory
from tests.support.page_helpers import client_class_for, h1, nav_labels, reset_link, sign_in

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------- people of an organisation


def test_people_page_lists_only_the_organisations_people(client, customer_admin, other_customer):
    colleague = CustomerUserFactory(customer=customer_admin.customer, first_name="Grace")
    stranger = CustomerUserFactory(customer=other_customer)
    client.force_login(customer_admin)
    html = client.get(reverse("portal-people")).content.decode()
    assert colleague.email in html and customer_admin.email in html
    assert stranger.email not in html


def test_admin_adds_a_person_who_sets_a_password_and_signs_in(
    client, customer_admin, celery_eager, django_capture_on_commit_callbacks
):
    client.force_login(customer_admin)
    # The invitation goes through the outbox: queued in the request, sent after commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal-person-add"),
            {
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": "Grace@Example.test",
                "role": "user",
            },
            follow=True,
        )
    assert response.request["PATH_INFO"] == "/portal/people/"
    assert "We e-mailed grace@example.test an invitation" in response.content.decode()
    person = User.objects.get(email="grace@example.test")
    assert person.username == "grace@example.test"
    assert person.customer == customer_admin.customer
    assert person.customer_role == "user"
    assert not person.has_usable_password()

    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["grace@example.test"]
    assert customer_admin.customer.name in invitation.subject

    client.logout()
    response = client.get(reset_link(invitation), follow=True)
    assert h1(response) == "Choose a password"
    new = "graces-own-secret-1906"
    client.post(response.request["PATH_INFO"], {"new_password1": new, "new_password2": new})
    response = sign_in(client, person, password=new)
    assert response.request["PATH_INFO"] == "/portal/"
    assert nav_labels(response) == [
        "Home",
        "Incidents",
        "Tickets",
        "Credits",
        "Credit notes",
        "Invoices",
        "Statements",
        "SLA report",
    ]


@pytest.mark.parametrize(
    "data, field, message",
    [
        (
            {"first_name": "A", "last_name": "B", "email": "not-an-address", "role": "user"},
            "email",
            "Enter a valid email address.",
        ),
        (
            {"first_name": "A", "last_name": "B", "email": "a@example.test", "role": "owner"},
            "role",
            "Select a valid choice.",
        ),
        (
            {"first_name": "", "last_name": "B", "email": "a@example.test", "role": "user"},
            "first_name",
            "This field is required.",
        ),
    ],
)
def test_adding_a_person_with_bad_input_shows_form_errors(
    client, customer_admin, data, field, message
):
    client.force_login(customer_admin)
    response = client.post(reverse("portal-person-add"), data)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert mail.outbox == []


def test_the_page_never_tells_whether_an_address_has_an_account_elsewhere(
    client, customer_admin, other_customer, celery_eager, django_capture_on_commit_callbacks
):
    taken = CustomerUserFactory(customer=other_customer)
    client.force_login(customer_admin)

    def add(email):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("portal-person-add"),
                {"first_name": "A", "last_name": "B", "email": email, "role": "user"},
                follow=True,
            )
        return [str(m) for m in response.context["messages"]]

    existing = add(taken.email.upper())
    new = add("fresh.person@acme.test")

    assert [m.replace(taken.email.upper(), "X").replace(taken.email, "X") for m in existing] == [
        m.replace("fresh.person@acme.test", "X") for m in new
    ]
    taken.refresh_from_db()
    assert taken.customer == other_customer
    assert [m.to for m in mail.outbox] == [[taken.email], ["fresh.person@acme.test"]]
    assert "tried to add you" in mail.outbox[0].subject


def test_adding_one_of_your_own_people_again_is_a_form_error(client, customer_admin, customer_user):
    client.force_login(customer_admin)
    response = client.post(
        reverse("portal-person-add"),
        {"first_name": "A", "last_name": "B", "email": customer_user.email, "role": "user"},
    )
    assert response.status_code == 200
    assert "already one of your people" in response.context["form"].errors["email"][0]
    assert mail.outbox == []


def test_admin_changes_a_persons_role(client, customer_admin, customer_user):
    client.force_login(customer_admin)
    response = client.post(
        reverse("portal-person-role", args=[customer_user.pk]), {"role": "admin"}, follow=True
    )
    assert "is now a Customer admin" in response.content.decode()
    customer_user.refresh_from_db()
    assert customer_user.is_customer_admin


def test_admin_cannot_demote_themselves(client, customer_admin):
    client.force_login(customer_admin)
    response = client.post(
        reverse("portal-person-role", args=[customer_admin.pk]), {"role": "user"}
    )
    assert response.status_code == 200
    assert "You cannot deactivate or demote yourself." in response.content.decode()
    customer_admin.refresh_from_db()
    assert customer_admin.is_customer_admin


def test_a_bad_role_value_is_a_form_error(client, customer_admin, customer_user):
    client.force_login(customer_admin)
    response = client.post(
        reverse("portal-person-role", args=[customer_user.pk]), {"role": "superuser"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_deactivated_person_can_no_longer_sign_in_until_reactivated(
    client, customer_admin, customer_user
):
    client.force_login(customer_admin)
    response = client.post(
        reverse("portal-person-deactivate", args=[customer_user.pk]), follow=True
    )
    assert "deactivated and can no longer sign in" in response.content.decode()
    customer_user.refresh_from_db()
    assert not customer_user.is_active

    other = client_class_for(client)
    assert sign_in(other, customer_user).request["PATH_INFO"] == "/accounts/login/"

    client.post(reverse("portal-person-reactivate", args=[customer_user.pk]))
    customer_user.refresh_from_db()
    assert customer_user.is_active
    assert sign_in(other, customer_user).request["PATH_INFO"] == "/portal/"


def test_deactivation_ends_the_persons_open_session(client, customer_admin, customer_user):
    client.force_login(customer_user)
    admin_client = client_class_for(client)
    admin_client.force_login(customer_admin)
    admin_client.post(reverse("portal-person-deactivate", args=[customer_user.pk]))
    assert client.get(reverse("portal-home")).status_code == 302


def test_admin_cannot_deactivate_themselves(client, customer_admin):
    client.force_login(customer_admin)
    assert (
        "You cannot deactivate your own account"
        in client.get(reverse("portal-person", args=[customer_admin.pk])).content.decode()
    )
    response = client.post(reverse("portal-person-deactivate", args=[customer_admin.pk]))
    assert response.status_code == 200
    assert "You cannot deactivate or demote yourself." in response.content.decode()
    customer_admin.refresh_from_db()
    assert customer_admin.is_active


def test_invitation_can_be_sent_again(
    client, customer_admin, celery_eager, django_capture_on_commit_callbacks
):
    person = CustomerUserFactory(customer=customer_admin.customer)
    person.set_unusable_password()
    person.save()
    client.force_login(customer_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal-person-invite", args=[person.pk]), follow=True)
    assert f"We e-mailed {person.email}" in response.content.decode()
    assert [m.to for m in mail.outbox] == [[person.email]]


@pytest.mark.parametrize(
    "name, method",
    [
        ("portal-person", "get"),
        ("portal-person-role", "post"),
        ("portal-person-deactivate", "post"),
        ("portal-person-reactivate", "post"),
        ("portal-person-invite", "post"),
    ],
)
def test_another_customers_person_is_a_404(client, customer_admin, other_customer, name, method):
    stranger = CustomerUserFactory(customer=other_customer)
    client.force_login(customer_admin)
    response = getattr(client, method)(reverse(name, args=[stranger.pk]), {"role": "admin"})
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active and stranger.customer_role == "user"
    assert mail.outbox == []


def test_staff_people_are_not_reachable_through_the_portal(client, customer_admin, agent):
    client.force_login(customer_admin)
    assert client.get(reverse("portal-person", args=[agent.pk])).status_code == 404
    assert client.get(reverse("portal-person", args=[999_999])).status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "portal-person-role",
        "portal-person-deactivate",
        "portal-person-reactivate",
        "portal-person-invite",
    ],
)
def test_state_changes_refuse_get(client, customer_admin, customer_user, name):
    client.force_login(customer_admin)
    assert client.get(reverse(name, args=[customer_user.pk])).status_code == 405
    customer_user.refresh_from_db()
    assert customer_user.is_active
