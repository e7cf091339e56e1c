"""Signing in and out, lockout, password reset, the role home pages and navigation, and who
may open which page, through the Django test client."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from contracts.models import User
from outbox.models import OutboxMessage
from tests.support.factories import (
    PASSWORD,
    CustomerFactory,
    StaffFactory,
    UserFactory,
    make_contract,
)
from tests.support.page_helpers import h1, nav_labels, reset_link, sign_in

pytestmark = pytest.mark.django_db

ROLE_HOMES = {
    "customer_user": ("/portal/", None),  # the heading is the organisation's name
    "customer_admin": ("/portal/", None),
    "agent": ("/desk/", "Ticket queue"),
    "operations": ("/ops/", "Outages"),
    "account_manager": ("/am/", "Customers"),
    "admin_user": ("/backoffice/", "Back office"),
}
NAV = {
    "customer_user": [
        "Home",
        "Incidents",
        "Tickets",
        "Credits",
        "Credit notes",
        "Invoices",
        "Statements",
        "SLA report",
    ],
    "customer_admin": [
        "Home",
        "Incidents",
        "Tickets",
        "Credits",
        "Credit notes",
        "Invoices",
        "Statements",
        "SLA report",
        "People",
    ],
    "agent": ["Queue", "SLA report"],
    "operations": ["Outages", "Availability", "Statements", "SLA report"],
    "account_manager": ["Customers", "Credits", "Invoices", "Statements", "SLA report"],
    "admin_user": [
        "Back office",
        "Audit log",
        "Queue",
        "Outages",
        "Availability",
        "Customers",
        "Credits",
        "Invoices",
        "Statements",
        "SLA report",
        "Admin site",
    ],
}
STAFF_PAGES = {
    "agent": "desk-home",
    "operations": "ops-home",
    "account_manager": "am-home",
    "admin_user": "backoffice-home",
}
PORTAL_PAGES = ["portal-home", "portal-people", "portal-person-add"]


# ---------------------------------------------------------------- sign in and home pages


@pytest.mark.parametrize("role", ROLE_HOMES)
def test_each_role_signs_in_through_the_form_and_lands_on_its_home(client, request, role):
    user = request.getfixturevalue(role)
    response = sign_in(client, user)
    path, heading = ROLE_HOMES[role]
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == path
    assert h1(response) == (heading or user.customer.name)


@pytest.mark.parametrize("role", NAV)
def test_navigation_shows_the_links_of_the_role_and_no_others(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.get(reverse("home"), follow=True)
    assert nav_labels(response) == NAV[role]
    assert 'action="/accounts/logout/"' in response.content.decode()


def test_navigation_marks_the_current_page(client, customer_admin):
    client.force_login(customer_admin)
    html = client.get(reverse("portal-people")).content.decode()
    assert '<a href="/portal/people/" aria-current="page">People</a>' in html
    assert '<a href="/portal/">Home</a>' in html


def test_header_names_the_person_and_their_role(client, customer_admin):
    customer_admin.first_name, customer_admin.last_name = "Ada", "Lovelace"
    customer_admin.save()
    client.force_login(customer_admin)
    html = client.get(reverse("portal-home")).content.decode()
    assert "Ada Lovelace" in html
    assert f"Customer admin · {customer_admin.customer.name}" in html


def test_staff_with_two_roles_see_both_pages(client):
    user = StaffFactory(role="agent")
    user.groups.add(*StaffFactory(role="operations").groups.all())
    client.force_login(user)
    assert client.get(reverse("desk-home")).status_code == 200
    assert client.get(reverse("ops-home")).status_code == 200
    assert nav_labels(client.get(reverse("ops-home"))) == [
        "Queue",
        "Outages",
        "Availability",
        "Statements",
        "SLA report",
    ]


def test_a_person_without_any_role_gets_403_not_a_login_loop(client):
    client.force_login(UserFactory())
    assert client.get(reverse("home")).status_code == 403


def test_wrong_password_shows_a_form_error(client, customer_user):
    response = sign_in(client, customer_user, password="not-the-password")
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == "/accounts/login/"
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_page_labels_its_inputs(client):
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="en-GB">' in html
    assert '<label for="id_username">E-mail or username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert 'href="#main"' in html and '<main id="main"' in html


def test_five_failures_lock_the_username_and_address_out(client, customer_user):
    for _ in range(4):
        assert sign_in(client, customer_user, password="guess").status_code == 200
    response = sign_in(client, customer_user, password="guess")
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "try again in 15 minutes" in response.content.decode()
    # Even the right password is refused while locked out.
    response = sign_in(client, customer_user)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_username_and_address(client, customer_user, customer_admin):
    for _ in range(5):
        sign_in(client, customer_user, password="guess")
    assert sign_in(client, customer_admin).request["PATH_INFO"] == "/portal/"
    client.logout()
    other_address = sign_in(client, customer_user, REMOTE_ADDR="10.0.0.9")
    assert other_address.request["PATH_INFO"] == "/portal/"


def test_logout_is_a_post_and_ends_the_session(client, agent):
    client.force_login(agent)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"), follow=True)
    assert response.request["PATH_INFO"] == "/accounts/login/"
    assert client.get(reverse("desk-home")).status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(
    client, customer_user, celery_eager, django_capture_on_commit_callbacks
):
    # Through the outbox: queued in the request, sent by its task after the commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("password_reset"), {"email": customer_user.email}, follow=True
        )
    assert OutboxMessage.objects.filter(to=[customer_user.email]).count() == 1
    assert h1(response) == "Check your e-mail"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer_user.email]
    assert mail.outbox[0].subject == "Reset your SLA Portal password"
    response = client.get(reset_link(mail.outbox[0]), follow=True)
    assert h1(response) == "Choose a password"
    new = "a-brand-new-secret-42"
    response = client.post(
        response.request["PATH_INFO"],
        {"new_password1": new, "new_password2": new},
        follow=True,
    )
    assert h1(response) == "Your password is saved"
    assert sign_in(client, customer_user, password=new).request["PATH_INFO"] == "/portal/"


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.test"}, follow=True)
    assert h1(response) == "Check your e-mail"
    assert mail.outbox == [] and not OutboxMessage.objects.exists()


def test_password_change_page_works(client, operations):
    client.force_login(operations)
    new = "another-long-secret-77"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert h1(response) == "Your password is changed"
    operations.refresh_from_db()
    assert operations.check_password(new)


# ---------------------------------------------------------------- who may open what


@pytest.mark.parametrize("name", [*PORTAL_PAGES, *STAFF_PAGES.values(), "password_change", "home"])
def test_anonymous_visitors_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("role", STAFF_PAGES)
@pytest.mark.parametrize("page", STAFF_PAGES.values())
def test_each_staff_page_needs_its_role_and_admin_sees_all(client, request, role, page):
    client.force_login(request.getfixturevalue(role))
    allowed = role == "admin_user" or STAFF_PAGES[role] == page
    assert client.get(reverse(page)).status_code == (200 if allowed else 403)


@pytest.mark.parametrize("role", ["customer_user", "customer_admin"])
@pytest.mark.parametrize("page", STAFF_PAGES.values())
def test_customer_people_get_403_on_staff_pages(client, request, role, page):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse(page))
    assert response.status_code == 403
    assert "You don't have access to this page" in response.content.decode()


@pytest.mark.parametrize("role", STAFF_PAGES)
@pytest.mark.parametrize("page", PORTAL_PAGES)
def test_staff_get_403_on_portal_pages(client, request, role, page):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse(page)).status_code == 403


@pytest.mark.parametrize("page", ["portal-people", "portal-person-add"])
def test_a_customer_user_cannot_manage_people(client, customer_user, customer_admin, page):
    client.force_login(customer_user)
    assert client.get(reverse(page)).status_code == 403
    assert client.get(reverse("portal-person", args=[customer_admin.pk])).status_code == 403
    response = client.post(reverse("portal-person-deactivate", args=[customer_admin.pk]))
    assert response.status_code == 403
    customer_admin.refresh_from_db()
    assert customer_admin.is_active


def test_unknown_pages_are_a_friendly_404(client, customer_user):
    client.force_login(customer_user)
    response = client.get("/portal/no-such-page/")
    assert response.status_code == 404
    assert "We can't find that page" in response.content.decode()


# ---------------------------------------------------------------- home pages


def test_portal_home_lists_the_organisations_contracts(client, customer_user, other_customer):
    make_contract(customer_user.customer, reference="C-OURS", fees=("1250.00", "99.50"))
    make_contract(other_customer, reference="C-THEIRS")
    client.force_login(customer_user)
    html = client.get(reverse("portal-home")).content.decode()
    assert "C-OURS" in html and "C-THEIRS" not in html
    assert "Tiered Test SLA" in html
    assert "1,250.00 USD" in html and "99.50 USD" in html
    assert "1 Jan 2026 – open-ended" in html
    assert reverse("portal-tickets") in html


def test_portal_home_explains_when_there_are_no_contracts(client, customer_user):
    client.force_login(customer_user)
    html = client.get(reverse("portal-home")).content.decode()
    assert "No contracts yet" in html


def test_account_manager_sees_only_the_customers_they_manage(client, account_manager):
    mine, theirs = CustomerFactory(name="Managed Ltd"), CustomerFactory(name="Someone Else Ltd")
    mine.account_managers.add(account_manager)
    make_contract(mine, reference="C-MANAGED")
    make_contract(theirs, reference="C-OTHER")
    client.force_login(account_manager)
    html = client.get(reverse("am-home")).content.decode()
    assert "Managed Ltd" in html and "C-MANAGED" in html
    assert "Someone Else Ltd" not in html and "C-OTHER" not in html


def test_account_manager_without_customers_sees_an_empty_state(client, account_manager):
    client.force_login(account_manager)
    assert "No customers assigned to you yet" in client.get(reverse("am-home")).content.decode()


def test_back_office_counts_and_links_each_section(client, admin_user, customer_user):
    make_contract(customer_user.customer)
    client.force_login(admin_user)
    response = client.get(reverse("backoffice-home"))
    sections = {s["label"]: s for s in response.context["sections"]}
    assert set(sections) == {
        "Customers",
        "Services",
        "Calendars",
        "SLA policies",
        "Contracts",
        "Invoices",
        "People",
    }
    assert sections["Contracts"]["count"] == 1
    assert sections["Customers"]["count"] == 1
    assert sections["People"]["count"] == User.objects.count()
    assert 'href="/admin/"' in response.content.decode()


@pytest.mark.django_db
def test_a_freshly_migrated_database_gives_each_role_the_permissions_of_later_apps():
    # The groups are synced after the last app has migrated: permissions of apps that
    # come after `contracts` (tickets, credits) exist by then.
    from django.contrib.auth.models import Group

    from slaportal import roles

    agent = set(Group.objects.get(name=roles.AGENT).permissions.values_list("codename", flat=True))
    manager = set(
        Group.objects.get(name=roles.ACCOUNT_MANAGER).permissions.values_list("codename", flat=True)
    )
    assert {"view_ticket", "view_ticketmessage"} <= agent
    assert {"view_credit", "view_ledgerentry"} <= manager


PROXY = "10.0.0.2"  # our TLS proxy: every request reaches us from it


def test_behind_the_tls_proxy_the_lockout_keys_on_the_clients_own_address(
    client, customer_user, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.9"}
    for _ in range(5):
        sign_in(client, customer_user, password="guess", **attacker)
    assert sign_in(client, customer_user, **attacker).status_code == 429
    # The person themselves, through the same proxy from their own address, signs in.
    person = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert sign_in(client, customer_user, **person).request["PATH_INFO"] == "/portal/"
    client.logout()
    # Writing the person's address into the header first changes nothing: the proxy
    # appends the address it saw, and that right-most one is the client.
    spoofed = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.7, 198.51.100.9"}
    assert sign_in(client, customer_user, **spoofed).status_code == 429


def test_without_the_proxy_setting_everyone_behind_the_proxy_shares_one_lockout(
    client, customer_user
):
    """Why TRUSTED_PROXY_COUNT matters (README, "Production runbook")."""
    for _ in range(5):
        sign_in(
            client,
            customer_user,
            password="guess",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="198.51.100.9",
        )
    person = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert sign_in(client, customer_user, **person).status_code == 429
