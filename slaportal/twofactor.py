"""Who must pass a second factor, and the middleware that holds them to it.

Staff with money authority (account managers and administrators, and any superuser) sign
in with their password and then a code: from an authenticator app (a TOTP device of
django-otp) or one of their single-use recovery codes (a static device). Until the
session is verified, every page sends them to the code page, or to set up their app when
they have none, and the API answers 403 to the session. An API token is made only with a
code (slaportal/tokens.py), so a token stands for a verified sign-in.

The pages themselves live with the people they belong to (contracts/two_factor.py).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django_otp import devices_for_user

from slaportal.roles import ACCOUNT_MANAGER, ADMIN, staff_roles

MONEY_ROLES = {ACCOUNT_MANAGER, ADMIN}
# Pages an unverified session may still open: the second-factor pages, signing out, and
# the files and probes that carry no one's data.
OPEN_URL_NAMES = ("two-factor-verify", "two-factor-setup", "logout")
OPEN_PREFIXES = ("/static/", "/healthz", "/status/")
API_REFUSAL = (
    "Your role needs a second factor. Sign in to the portal and enter the code from your "
    "authenticator app, or call with an API token."
)


def needs_second_factor(user) -> bool:
    """True for a signed-in account manager, administrator or superuser while the setting
    ``REQUIRE_TWO_FACTOR`` is on (the default)."""
    if not getattr(settings, "REQUIRE_TWO_FACTOR", True):
        return False
    if user is None or not user.is_authenticated or user.customer_id:
        return False
    return bool(user.is_superuser or staff_roles(user) & MONEY_ROLES)


def has_second_factor(user) -> bool:
    """Whether the person has a confirmed device: an authenticator app, or recovery codes
    (someone whose lost app an administrator removed signs in with a recovery code and
    then sets up a new app)."""
    return any(True for _ in devices_for_user(user, confirmed=True))


class TwoFactorMiddleware:
    """After django-otp's OTPMiddleware: a session of someone who needs a second factor
    and has not given one reaches only the code pages (or the set-up page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or SESSION_KEY not in session or not needs_second_factor(user):
            return None
        if user.is_verified():
            return None
        path = request.path
        if path.startswith(OPEN_PREFIXES) or path in {reverse(n) for n in OPEN_URL_NAMES}:
            return None
        if path.startswith("/api/"):
            return JsonResponse({"detail": API_REFUSAL}, status=403)
        target = "two-factor-verify" if has_second_factor(user) else "two-factor-setup"
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse(target)}?{query}")
