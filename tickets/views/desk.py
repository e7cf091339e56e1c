"""The support desk (``/desk/``): the queue ordered by the nearest open deadline, a
ticket's page with the whole thread (internal notes included), take and assign, public
reply or internal note, status, reclassification with its reason and the history, and
logging a ticket that came by phone or e-mail.

Support agents and administrators only (``role_required``), as ``tickets.selectors``
rules: anyone else gets a 403. Times are in the agent's own zone (``User.time_zone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts.forms import add_service_errors
from contracts.models import User
from slaportal import roles
from slaportal.pages import keyset_paginate, render_zoned, viewer_zone
from slaportal.permissions import role_required
from tickets import services
from tickets.forms import (
    AssignForm,
    DeskReplyForm,
    LogTicketForm,
    QueueFilterForm,
    ReclassifyForm,
    StatusForm,
    files_of,
)
from tickets.models import Ticket, TicketEvent
from tickets.selectors import agent_queue, severity_options, support_staff, tickets_visible_to
from tickets.views._common import clock_panels, rows, serve_attachment, status_badge, thread

desk_pages = role_required(roles.AGENT)
STATUS_LABELS = dict(Ticket.Status.choices)


def _queue(user: User, statuses: tuple[str, ...] | None) -> QuerySet[Ticket]:
    """Open tickets come from the queue selector (nearest deadline first); resolved or
    closed ones newest first; any status: the open ones by deadline, then the rest (no
    deadline runs on them) newest first. Each order has its index (``Ticket.Meta``)."""
    if statuses is not None and set(statuses) <= set(Ticket.OPEN_STATUSES):
        return agent_queue(statuses)
    tickets = tickets_visible_to(user).select_related("customer", "service", "assignee")
    if statuses is not None:
        return tickets.filter(status__in=statuses).order_by("-created_at", "-id")
    return tickets.order_by(F("next_due_at").asc(nulls_last=True), "-created_at", "-id")


@desk_pages
def queue(request: HttpRequest) -> HttpResponse:
    filters = QueueFilterForm(request.GET)
    tickets = filters.apply(_queue(request.user, filters.statuses()), user=request.user)
    # By position (?after=, ?before=): page 4,000 of every ticket reads what page 1 does.
    page = keyset_paginate(request, tickets)
    return render_zoned(
        request,
        "desk/home.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows(page.rows, timezone.now(), with_due=False),
            "open_only": filters.statuses() == tuple(Ticket.OPEN_STATUSES),
        },
    )


def _ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    tickets = tickets_visible_to(request.user).select_related(
        "customer",
        "service",
        "requester",
        "created_by",
        "assignee",
        "contract__support_calendar",
        "contract__policy__support_calendar",
    )
    return get_object_or_404(tickets, pk=ticket_id)


@dataclass(frozen=True)
class HistoryRow:
    created_at: datetime
    actor: str
    text: str
    reason: str


def _who(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user else "System"


def _history(ticket: Ticket) -> list[HistoryRow]:
    out = []
    for event in ticket.events.select_related("actor", "assignee"):
        if event.kind == TicketEvent.Kind.CREATED:
            text = f"Ticket created ({ticket.get_channel_display().lower()})"
        elif event.kind == TicketEvent.Kind.STATUS_CHANGED:
            old = STATUS_LABELS.get(event.from_status, event.from_status)
            text = f"Status {old} → {STATUS_LABELS.get(event.to_status, event.to_status)}"
        elif event.kind == TicketEvent.Kind.RECLASSIFIED:
            text = f"Severity {event.from_severity} → {event.to_severity}"
        else:
            text = f"Assigned to {_who(event.assignee)}" if event.assignee else "Unassigned"
        out.append(HistoryRow(event.created_at, _who(event.actor), text, event.reason))
    return out


def _render_detail(request: HttpRequest, ticket: Ticket, **bound: forms.Form) -> HttpResponse:
    options = severity_options(ticket.contract)
    context: dict[str, Any] = {
        "ticket": ticket,
        "status_badge": status_badge(ticket),
        "clocks": clock_panels(ticket, timezone.now()),
        "thread": thread(ticket, request.user),
        "history": _history(ticket),
        "file_url": "desk-ticket-file",
        "severity_name": next((o.name for o in options if o.severity == ticket.severity), ""),
        "reply_form": DeskReplyForm(),
        "assign_form": AssignForm(staff=support_staff(), initial={"assignee": ticket.assignee_id}),
        "status_form": StatusForm(ticket=ticket),
        "reclassify_form": ReclassifyForm(severity_options=options, current=ticket.severity),
        "can_take": ticket.assignee_id != request.user.pk,
        "closed": ticket.status == Ticket.Status.CLOSED,
        "files_dropped": bool(request.FILES),
        **bound,
    }
    return render_zoned(request, "tickets/desk/detail.html", context)


@desk_pages
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _render_detail(request, _ticket(request, ticket_id))


def _done(request: HttpRequest, ticket: Ticket, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("desk-ticket", ticket_id=ticket.pk)


@desk_pages
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    form = DeskReplyForm(request.POST, files_of(request.FILES))
    public = request.POST.get("kind") != "internal"
    if form.is_valid():
        try:
            services.ticket_reply(
                ticket=ticket,
                actor=request.user,
                body=form.cleaned_data["body"],
                public=public,
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            text = "Reply sent; the customer is e-mailed." if public else "Internal note added."
            return _done(request, ticket, text)
    ticket.refresh_from_db()
    return _render_detail(request, ticket, reply_form=form)


@desk_pages
@require_POST
def ticket_take(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    try:
        services.ticket_take(ticket=ticket, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("desk-ticket", ticket_id=ticket.pk)
    return _done(request, ticket, f"You have taken {ticket.reference}.")


@desk_pages
@require_POST
def ticket_assign(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    form = AssignForm(request.POST, staff=support_staff())
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        try:
            services.ticket_assign(ticket=ticket, assignee=assignee, actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(
                request, ticket, f"Assigned to {_who(assignee)}." if assignee else "Unassigned."
            )
    return _render_detail(request, ticket, assign_form=form)


@desk_pages
@require_POST
def ticket_status(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    form = StatusForm(request.POST, ticket=ticket)
    if form.is_valid():
        status = form.cleaned_data["status"]
        try:
            services.ticket_set_status(ticket=ticket, status=status, actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, ticket, f"Status changed to {STATUS_LABELS[status].lower()}.")
    return _render_detail(request, ticket, status_form=form)


@desk_pages
@require_POST
def ticket_reclassify(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id)
    form = ReclassifyForm(
        request.POST, severity_options=severity_options(ticket.contract), current=ticket.severity
    )
    if form.is_valid():
        try:
            ticket = services.ticket_reclassify(
                ticket=ticket,
                severity=form.cleaned_data["severity"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(
                request,
                ticket,
                f"Reclassified to severity {ticket.severity}; the due times were recomputed.",
            )
    return _render_detail(request, ticket, reclassify_form=form)


@desk_pages
def ticket_log(request: HttpRequest) -> HttpResponse:
    zone = viewer_zone(request)
    now = timezone.now().replace(second=0, microsecond=0)
    form = LogTicketForm(
        request.POST or None,
        files_of(request.FILES) if request.method == "POST" else None,
        zone=zone,
        initial={"received_at": now},
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_log(actor=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(
                request, ticket, f"Ticket {ticket.reference} logged for {ticket.customer}."
            )
    return render_zoned(
        request,
        "tickets/desk/new.html",
        {"form": form, "files_dropped": bool(request.FILES) and bool(form.errors)},
    )


@desk_pages
def attachment_download(request: HttpRequest, ticket_id: int, attachment_id: int):
    return serve_attachment(tickets_visible_to(request.user), ticket_id, attachment_id, staff=True)
