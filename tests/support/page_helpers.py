"""Helpers for tests that drive the portal's pages through the Django test client."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.support.factories import PASSWORD


def sign_in(client, user, password: str = PASSWORD, **extra):
    return client.post(
        reverse("login"), {"username": user.username, "password": password}, follow=True, **extra
    )


def h1(response) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)
    assert match, "page has no <h1>"
    return re.sub(r"\s+", " ", match.group(1)).strip()


def nav_labels(response) -> list[str]:
    match = re.search(r'<nav class="site-nav".*?</nav>', response.content.decode(), re.S)
    return re.findall(r"<a [^>]*>([^<]+)</a>", match.group(0)) if match else []


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def client_class_for(client):
    """A second, independent browser session."""
    return type(client)()
