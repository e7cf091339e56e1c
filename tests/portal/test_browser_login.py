"""Signing in through the real form in headless Chromium, one test per role."""

from __future__ import annotations

import pytest

from tests.support.accessibility import assert_accessible
from tests.support.browser import login, screenshot
from tests.support.factories import CustomerFactory, CustomerUserFactory, make_contract

pytestmark = pytest.mark.browser

# role fixture → (home path, h1, screenshot name)
HOMES = {
    "customer_user": ("/portal/", "Northwind Traders", "portal-home"),
    "agent": ("/desk/", "Ticket queue", "desk"),
    "operations": ("/ops/", "Outages", "ops"),
    "account_manager": ("/am/", "Customers", "am"),
    "admin_user": ("/backoffice/", "Back office", "backoffice"),
}
# The customer's and account manager's homes are dashboards, checked by their own tests.
CHECKED_HOMES = {"agent", "operations", "admin_user"}


@pytest.fixture
def demo_data(
    customer, customer_user, customer_admin, agent, operations, account_manager, admin_user
):
    """Realistic names and a few contracts, so the screenshots show populated pages."""
    customer.name = "Northwind Traders"
    customer.save()
    people = [
        (customer_user, "Carlos", "Díaz"),
        (customer_admin, "Alice", "Admin"),
        (agent, "Sam", "Support"),
        (operations, "Olga", "Ops"),
        (account_manager, "Maria", "Manager"),
        (admin_user, "Ada", "Root"),
    ]
    for user, first, last in people:
        user.first_name, user.last_name = first, last
        user.save()
    make_contract(customer, reference="NW-2026-001", fees=("4200.00", "950.00"))
    CustomerUserFactory(customer=customer, first_name="Grace", last_name="Hopper")
    customer.account_managers.add(account_manager)
    make_contract(CustomerFactory(name="Contoso Ltd"), reference="CT-2025-014")
    return customer


@pytest.mark.parametrize("role", HOMES)
def test_each_role_signs_in_and_lands_on_its_home(page, live_server, request, demo_data, role):
    from playwright.sync_api import expect

    user = request.getfixturevalue(role)
    path, heading, name = HOMES[role]
    login(page, live_server, user)
    expect(page).to_have_url(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    if role in CHECKED_HOMES:
        assert_accessible(page, f"{role}'s home")
    screenshot(page, name)


def test_customer_admin_reaches_the_people_page(page, live_server, demo_data, customer_admin):
    from playwright.sync_api import expect

    login(page, live_server, customer_admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    expect(page.get_by_role("cell", name="Grace Hopper")).to_be_visible()
    assert_accessible(page, "people list")
    screenshot(page, "people")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "people-mobile")


def test_customer_admin_adds_a_person_in_the_browser(page, live_server, demo_data, customer_admin):
    from playwright.sync_api import expect

    login(page, live_server, customer_admin)
    page.goto(f"{live_server.url}/portal/people/")
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("First name").fill("Linus")
    page.get_by_label("Last name").fill("Torvalds")
    page.get_by_label("E-mail address").fill("not-an-address")
    page.get_by_role("button", name="Add and send invitation").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    assert_accessible(page, "add a person, with a field error")
    screenshot(page, "person-add-error")
    page.get_by_label("E-mail address").fill("linus@northwind.test")
    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Add and send invitation").click()
    expect(page.get_by_role("status")).to_contain_text(
        "We e-mailed linus@northwind.test an invitation"
    )
    row = page.get_by_role("row", name="Linus Torvalds")
    expect(row).to_contain_text("Invited")
    row.get_by_role("link", name="Manage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Linus Torvalds")
    assert_accessible(page, "a person's page")
    screenshot(page, "person")


def test_wrong_password_shows_the_error_on_the_login_page(page, live_server, customer_user):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/accounts/login/")
    assert_accessible(page, "login page")
    screenshot(page, "login")
    login(page, live_server, customer_user, password="not-the-password")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")
    assert_accessible(page, "login page after a wrong password")
    screenshot(page, "login-error")


def test_password_pages_and_the_not_found_page_are_accessible(page, live_server, customer_user):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/accounts/password_reset/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page, "password reset form")
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "password reset form with an error")
    screenshot(page, "password-reset-error")

    login(page, live_server, customer_user)
    page.get_by_role("link", name="Change password").click()
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "password change form with errors")
    screenshot(page, "password-change-errors")

    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We can't find that page")
    assert_accessible(page, "not-found page")
