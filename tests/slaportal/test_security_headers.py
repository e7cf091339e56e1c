"""Every page carries a Content-Security-Policy that allows no inline script; the API docs
sit behind login and load Swagger UI from the package, so they render with no network
(headless Chromium: the machine's network is closed, and the CSP would block a CDN)."""

from __future__ import annotations

import re

import pytest

from tests.support.api_helpers import client_for
from tests.support.browser import login, screenshot


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/status/", "/api/v1/services/"])
def test_every_response_carries_a_csp_without_inline_script(path, client):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_api_docs_need_a_login(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/api/v1/redoc/").status_code == 302


def test_the_docs_load_their_code_from_this_site_and_no_inline_script(customer_user):
    client = client_for(customer_user)
    for path in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(path).content.decode()
        sources = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", html)
        assert sources, path
        assert all(not s.startswith(("http:", "https:", "//")) for s in sources), sources
        # Every script element has a src: none is inline.
        assert len(re.findall(r"<script\b", html)) == len(sources), path
        assert "cdn.jsdelivr" not in html and "unpkg" not in html


@pytest.mark.browser
def test_the_api_docs_render_in_chromium_with_no_network(page, live_server, customer_user):
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    login(page, live_server, customer_user)
    page.goto(f"{live_server.url}/api/v1/docs/")
    # Swagger UI has drawn the operations from the schema.
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() > 20
    assert page.get_by_text("SLA Portal API").first.is_visible()
    screenshot(page, "api-docs")
    assert violations == []
