"""Project middleware: a request id on every request, NUL characters refused, and the idle
timeout of staff sessions."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils import timezone

from slaportal import logging as context

log = logging.getLogger("slaportal.request")

RequestHandler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Takes a safe ``X-Request-ID`` from the proxy (or makes one), puts it on every log
    record of the request and on the response, and logs one line per request. First in
    ``MIDDLEWARE`` so that even a redirect or a lockout carries it."""

    def __init__(self, get_response: RequestHandler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = context.new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = rid
        # Not reset on the way out: Django logs a 5xx (``django.request``) after the
        # middleware has returned. ``request_finished`` clears it (below).
        context.request_id.set(rid)
        started = time.monotonic()
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response


@receiver(request_finished, dispatch_uid="slaportal.forget_request_id")
def _forget_request_id(**kwargs: Any) -> None:
    """The server has sent the response: later lines of this thread are not the request's."""
    context.request_id.set(None)


# When the idle clock last moved. The expiry is moved at most once a minute
# (STAFF_SESSION_REFRESH_SECONDS), so a busy staff member's session is written once a
# minute rather than on every request; the session then ends 29 to 30 minutes after the
# last request.
IDLE_SEEN_KEY = "_staff_idle_seen"


def _is_staff_session(request: HttpRequest) -> bool:
    # Only a signed-in session: an API call with a token must not start one.
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    return (
        session is not None
        and SESSION_KEY in session
        and user is not None
        and user.is_authenticated
        and not user.customer_id
    )


def _restart_idle_clock(request: HttpRequest) -> None:
    request.session[IDLE_SEEN_KEY] = int(timezone.now().timestamp())
    request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)


def start_staff_idle_clock(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any):
    """``user_logged_in``: a staff sign-in starts with the idle expiry, not the 8 hours."""
    if request is not None and hasattr(request, "session") and not user.customer_id:
        _restart_idle_clock(request)


class StaffSessionIdleMiddleware:
    """Staff sessions end after ``STAFF_SESSION_IDLE_SECONDS`` without a request.

    The expiry is relative, so each save of the session moves it forward: an idle limit,
    not an absolute one. Customers keep ``SESSION_COOKIE_AGE``. After
    ``AuthenticationMiddleware``."""

    def __init__(self, get_response: RequestHandler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Looked at after the view, so a sign-out is left alone.
        if _is_staff_session(request):
            seen = request.session.get(IDLE_SEEN_KEY)
            now = int(timezone.now().timestamp())
            refresh = settings.STAFF_SESSION_REFRESH_SECONDS
            if not isinstance(seen, int) or now - seen >= refresh:
                _restart_idle_clock(request)
        return response


NUL_MESSAGE = "The address contains a NUL character, which no page or record has."


class RejectNulMiddleware:
    """A NUL character in the path or the query string is a 400 with a message. Nothing
    the portal stores can contain one (PostgreSQL text cannot), and a lookup with one
    would otherwise fail in the database, a 500."""

    def __init__(self, get_response: RequestHandler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
