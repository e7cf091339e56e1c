"""Status page subscriptions: the subscribe form, and the pages behind the links we
e-mail (confirm, manage, unsubscribe). No login anywhere: the token in the link is the
proof of owning the address, and an unknown token is a 404.

Confirming takes a POST (the link's page shows a button): mail scanners and link
previews fetch every GET in a message, and a GET that confirmed would let them opt in
an address that a stranger typed into the form, defeating the double opt-in. For the
same reason GETs here change nothing.

Unsubscribing is one click (RFC 8058): the mail client POSTs
``List-Unsubscribe=One-Click`` to the link in the ``List-Unsubscribe`` header, with no
cookie and no CSRF token, and expects a 2xx answer, not a redirect. So that POST is
exempt from CSRF (the unguessable token authenticates it; the worst a forged request
can do is what the link's owner could) and answers 200. Token pages are never cached.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from contracts.forms import add_service_errors
from status import subscriptions
from status.models import Subscriber
from status.subscription_forms import ServicesForm, SubscribeForm


def _subscriber(token: str) -> Subscriber:
    subscriber = subscriptions.subscriber_by_token(token)
    if subscriber is None:
        raise Http404("This link is not valid.")
    return subscriber


def _posted(request: HttpRequest) -> QueryDict | None:
    # Not ``request.POST or None``: a form sent with every box unticked is an empty POST,
    # and must be refused, not shown again as if never sent.
    return request.POST if request.method == "POST" else None


def _followed(subscriber: Subscriber) -> list[str]:
    return sorted(s.name for s in subscriber.services.all())


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm(_posted(request))
    if form.is_bound and form.is_valid():
        try:
            subscriptions.subscriber_subscribe(
                email=form.cleaned_data["email"], services=form.cleaned_data["services"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # The same answer whether the address was new, pending or subscribed.
            return redirect("status-subscribe-sent")
    return render(request, "status/subscribe.html", {"form": form})


@require_safe
def subscribe_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "status/subscribe_sent.html")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber(token)
    if request.method == "POST":
        try:
            subscriptions.subscriber_confirm(subscriber=subscriber)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Subscription confirmed. Updates now come to you by e-mail.")
        return redirect("status-subscription", token=token)
    return render(
        request,
        "status/subscription_confirm.html",
        {"subscriber": subscriber, "services": _followed(subscriber), "token": token},
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_manage(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber(token)
    initial = {"services": list(subscriber.services.all())}
    form = ServicesForm(_posted(request), initial=initial)
    if form.is_bound and form.is_valid():
        try:
            subscriptions.subscriber_change_services(
                subscriber=subscriber, services=form.cleaned_data["services"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your services are saved.")
            return redirect("status-subscription", token=token)
    return render(
        request,
        "status/subscription_manage.html",
        {"subscriber": subscriber, "form": form, "token": token},
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber(token)
    if request.method == "POST":
        subscriber = subscriptions.subscriber_unsubscribe(subscriber=subscriber)
    return render(
        request,
        "status/subscription_unsubscribe.html",
        {"subscriber": subscriber, "token": token, "done": request.method == "POST"},
    )
