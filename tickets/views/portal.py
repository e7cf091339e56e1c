"""The customer's ticket pages (``/portal/tickets/``): the organisation's tickets, filing
one, and a ticket's page with its public thread, due times, replies, resolve and reopen.

Every query starts from the requester's organisation (``tickets_visible_to``), so
another customer's ticket or attachment is a 404. Times are in ``User.time_zone``.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts.forms import add_service_errors
from contracts.models import Customer, User
from slaportal.months import local_date
from slaportal.pages import paginate, render_zoned
from slaportal.permissions import customer_required
from tickets import services
from tickets.forms import ReplyForm, TicketFileForm, TicketListFilterForm, files_of
from tickets.models import Ticket
from tickets.selectors import (
    active_contract,
    contracts_in_force,
    customer_services,
    customer_tickets,
    services_in_force,
    severity_options,
    support_calendar_of,
    tickets_visible_to,
)
from tickets.views._common import (
    clock_panels,
    rows,
    serve_attachment,
    severity_targets,
    status_badge,
    thread,
)

# What a customer may do to the status (the services refuse anything else).
STATUS_ACTIONS = {
    Ticket.Status.RESOLVED: "Ticket marked resolved. If the problem comes back, reopen it.",
    Ticket.Status.OPEN: "Ticket reopened; the support team will pick it up again.",
}


def _today(customer: Customer):
    """Contracts run by dates in the customer's zone (as the filing service reads them)."""
    return local_date(timezone.now(), customer.time_zone)


def _ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    tickets = tickets_visible_to(request.user).select_related(
        "service",
        "requester",
        "created_by",
        "contract__support_calendar",
        "contract__policy__support_calendar",
    )
    return get_object_or_404(tickets, pk=ticket_id)


@customer_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    filters = TicketListFilterForm(request.GET, services=customer_services(customer))
    page, query = paginate(request, filters.apply(customer_tickets(customer)))
    return render_zoned(
        request,
        "tickets/portal/list.html",
        {
            "customer": customer,
            "filters": filters,
            "page": page,
            "rows": rows(page, timezone.now()),
            "query": query,
            "can_file": services_in_force(customer, on=_today(customer)).exists(),
        },
    )


def _filing_context(customer: Customer, service_id: Any) -> dict[str, Any]:
    """Services the customer may file about today, the severity words of the contract
    that covers the chosen service (the latest contract in force before one is chosen),
    and the data-access notices of the policies in force."""
    today = _today(customer)
    choices = services_in_force(customer, on=today)
    service = choices.filter(pk=service_id).first() if str(service_id or "").isdigit() else None
    contract = active_contract(customer, service, on=today) or active_contract(customer, on=today)
    in_force = contracts_in_force(customer, on=today).select_related("policy")
    notices = sorted({c.policy.filing_notice for c in in_force if c.policy.filing_notice})
    return {
        "services": choices,
        "severity_options": severity_options(contract),
        "severity_targets": severity_targets(contract) if contract else {},
        "contract": contract,
        "support_calendar": support_calendar_of(contract),
        "notices": notices,
        "several_contracts": len({c.policy_id for c in in_force}) > 1,
    }


@customer_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    context = _filing_context(customer, request.POST.get("service"))
    form = TicketFileForm(
        request.POST or None,
        files_of(request.FILES) if request.method == "POST" else None,
        services=context["services"],
        severity_options=context["severity_options"],
        severity_targets=context["severity_targets"],
        initial={"form_token": secrets.token_urlsafe(24)},
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        token = data["form_token"]
        try:
            ticket = services.ticket_file(
                actor=request.user,
                service=data["service"],
                subject=data["subject"],
                description=data["description"],
                severity=data["severity"],
                attachments=data["attachments"],
                idempotency_key=f"form:{token}" if token else "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if getattr(ticket, "replayed", False):
                messages.info(
                    request,
                    f"This form had already filed ticket {ticket.reference}: here it is. "
                    "Nothing was filed twice.",
                )
            else:
                messages.success(
                    request,
                    f"Ticket {ticket.reference} filed. Its due times are below; we will "
                    "e-mail you when the support team replies.",
                )
            return redirect("portal-ticket", ticket_id=ticket.pk)
    return render_zoned(
        request,
        "tickets/portal/new.html",
        {
            **context,
            "form": form,
            "customer": customer,
            "files_dropped": bool(request.FILES) and bool(form.errors),
        },
    )


def _render_detail(
    request: HttpRequest, ticket: Ticket, reply_form: ReplyForm | None = None
) -> HttpResponse:
    now = timezone.now()
    return render_zoned(
        request,
        "tickets/portal/detail.html",
        {
            "ticket": ticket,
            "status_badge": status_badge(ticket),
            "clocks": clock_panels(ticket, now),
            "thread": thread(ticket, request.user),
            "reply_form": reply_form or ReplyForm(),
            "files_dropped": bool(request.FILES) and bool(reply_form and reply_form.errors),
            "file_url": "portal-ticket-file",
            "can_resolve": ticket.status in Ticket.OPEN_STATUSES,
            "can_reopen": ticket.status == Ticket.Status.RESOLVED,
            "watchers": ticket.watchers.order_by("first_name", "last_name", "username"),
            "candidates": services.watcher_candidates(ticket)
            if ticket.status != Ticket.Status.CLOSED
            else [],
        },
    )


@customer_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _render_detail(request, _ticket(request, ticket_id))


@customer_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    form = ReplyForm(request.POST, files_of(request.FILES))
    if form.is_valid():
        try:
            services.ticket_reply(
                ticket=ticket,
                actor=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Reply sent to the support team.")
            return redirect("portal-ticket", ticket_id=ticket.pk)
    ticket.refresh_from_db()
    return _render_detail(request, ticket, reply_form=form)


@customer_required
@require_POST
def ticket_status(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    status = request.POST.get("status", "")
    try:
        services.ticket_set_status(ticket=ticket, status=status, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, STATUS_ACTIONS.get(status, "Status changed.")
        )  # PermissionDenied (any other status) is a 403
    return redirect("portal-ticket", ticket_id=ticket.pk)


@customer_required
def attachment_download(request: HttpRequest, ticket_id: int, attachment_id: int):
    return serve_attachment(tickets_visible_to(request.user), ticket_id, attachment_id, staff=False)


@customer_required
@require_POST
def ticket_watchers(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Add a colleague (``person``) to the ticket, or remove one (``remove``)."""
    ticket = _ticket(request, ticket_id)
    colleagues = User.objects.filter(customer_id=request.user.customer_id)
    removing = "remove" in request.POST
    person = colleagues.filter(pk=_number(request.POST.get("remove" if removing else "person")))
    person = person.first()
    if person is None:
        messages.error(request, "Choose a colleague from your organisation.")
        return redirect("portal-ticket", ticket_id=ticket.pk)
    try:
        if removing:
            services.ticket_watcher_remove(ticket=ticket, actor=request.user, person=person)
        else:
            services.ticket_watcher_add(ticket=ticket, actor=request.user, person=person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        name = person.get_full_name() or person.email or person.get_username()
        done = "no longer gets" if removing else "now gets"
        messages.success(request, f"{name} {done} the replies on this ticket.")
    return redirect("portal-ticket", ticket_id=ticket.pk)


def _number(raw: str | None) -> int:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else 0
