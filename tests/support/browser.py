"""Playwright fixtures and helpers for browser tests (headless Chromium, sync API).

tests/conftest.py registers this module as a plugin, so a test module only marks itself
and imports the helpers::

    from tests.support.browser import login, screenshot

    pytestmark = pytest.mark.browser

    def test_something(page, live_server, customer_user):
        login(page, live_server, customer_user)
        expect(page.get_by_role("heading", level=1)).to_have_text(...)
        screenshot(page, "portal-home")

``browser`` is one headless Chromium per test module; ``page`` opens a fresh browser context (own cookies) per test, against
pytest-django's ``live_server`` (which makes the test use ``transactional_db``, so
rows created in the test are visible to the server thread). Screenshots go to
``tests/artifacts/<name>.png`` (git-ignored).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.factories import PASSWORD
from tests.support.requirements import REQUIRE_BROWSER, need

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

    from contracts.models import User

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    need(
        importlib.util.find_spec("playwright") is not None,
        "needs the playwright Python package",
        required=REQUIRE_BROWSER,
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the test thread from start
    # to stop, which makes Django refuse ORM calls from that thread (factories,
    # refresh_from_db) as if they came from async code. They are plain sync calls,
    # so allow them while the browser is up. Module scope, not session scope: the
    # loop and the variable must be gone before other modules' tests run, or their
    # ORM calls fail and subprocesses inherit the variable (check --deploy rejects it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A new page in its own context (no cookies shared between tests)."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def login(page: Page, live_server: LiveServer, user: User, password: str = PASSWORD) -> None:
    """Sign in through the real login form; returns once the POST's page has loaded
    (the role's home page on success, the login page again on failure)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail or username").fill(user.get_username())
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save the page to tests/artifacts/<name>.png and return the path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
