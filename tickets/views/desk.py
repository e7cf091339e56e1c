"""The support desk (``/desk/``): the queue (nearest open deadline first, or sorted by a
column; searched; the agent's own saved filters), a ticket's page with the whole thread
(internal notes included), take and assign, public reply or internal note, status,
reclassification with its reason and the history, and logging a ticket that came by
phone or e-mail (a caller who is not a registered person gets the SLA's severity).

Support agents and administrators only (``role_required``), as ``tickets.selectors``
rules: anyone else gets a 403. Times are in the agent's own zone (``User.time_zone``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
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
    ReclassifyForm,
    StatusForm,
    files_of,
)
from tickets.models import SavedFilter, Ticket, TicketEvent
from tickets.queue_forms import QueueFilterForm, SavedFilterForm
from tickets.selectors import (
    DESK_SORTS,
    desk_queue,
    is_support_staff,
    severity_options,
    support_staff,
    tickets_visible_to,
)
from tickets.views._common import clock_panels, rows, serve_attachment, status_badge, thread

desk_pages = role_required(roles.AGENT)
# A ticket's page and files: account managers read their own customers' (the selector).
desk_reading = role_required(roles.AGENT, roles.ACCOUNT_MANAGER)
STATUS_LABELS = dict(Ticket.Status.choices)


def _queue(user: User, statuses: tuple[str, ...] | None, sort: str = "due") -> QuerySet[Ticket]:
    """The desk's tickets of ``statuses`` in the order ``sort`` names; each order has its
    index (``tickets.selectors.desk_queue``). Support staff see every ticket (the tenant
    rule, ``tickets_visible_to``); anyone else, none."""
    if not is_support_staff(user):
        return Ticket.objects.none()
    return desk_queue(statuses, sort)


def _own_filter(request: HttpRequest, raw: str) -> SavedFilter:
    """One of the agent's own saved filters: another agent's, or none, is a 404."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Http404("No such saved filter.")
    return get_object_or_404(SavedFilter.objects.filter(user=request.user), pk=int(raw))


def _sort_links(query: str) -> dict[str, str]:
    """Each sort's query string: this search and these filters, from the first page."""
    links = {}
    for key in DESK_SORTS:
        ordered = QueryDict(query, mutable=True)
        ordered.pop("sort", None)
        if key != "due":
            ordered["sort"] = key
        links[key] = ordered.urlencode()
    return links


def _render_queue(request: HttpRequest, save_form: SavedFilterForm) -> HttpResponse:
    filters = QueueFilterForm(request.GET)
    sort = filters.sort_key()
    tickets = filters.apply(_queue(request.user, filters.statuses(), sort), user=request.user)
    # By position (?after=, ?before=): page 4,000 of every ticket reads what page 1 does.
    page = keyset_paginate(request, tickets)
    query = QueueFilterForm.query_of(request.GET)
    # A search of the open tickets (the default) that finds none: offer every status.
    everywhere = None
    if filters.is_valid() and filters.cleaned_data["q"] and not filters.cleaned_data["status"]:
        everywhere = QueryDict(query, mutable=True)
        everywhere["status"] = "all"
    return render_zoned(
        request,
        "desk/home.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows(page.rows, timezone.now(), with_due=False),
            "open_only": filters.statuses() == tuple(Ticket.OPEN_STATUSES),
            "sort": sort,
            "sort_label": DESK_SORTS[sort],
            "sort_links": _sort_links(query),
            "query": query,
            "saved_filters": SavedFilter.objects.filter(user=request.user),
            "save_form": save_form,
            "any_status_query": everywhere.urlencode() if everywhere else "",
        },
    )


def _back_to_queue(query: str) -> HttpResponse:
    return redirect(f"{reverse('desk-home')}?{query}" if query else reverse("desk-home"))


@desk_pages
def queue(request: HttpRequest) -> HttpResponse:
    """The queue; ``?saved=`` opens one of the agent's saved filters. A POST saves this
    search under a name, or deletes a saved filter (``delete``)."""
    query = QueueFilterForm.query_of(request.GET)
    if request.method == "POST":
        if "delete" in request.POST:
            found = _own_filter(request, request.POST["delete"])
            services.saved_filter_delete(user=request.user, saved=found)
            messages.success(request, f"Deleted the saved filter “{found.name}”.")
            return _back_to_queue(query)
        form = SavedFilterForm(request.POST)
        if form.is_valid():
            name = form.cleaned_data["name"]
            try:
                services.saved_filter_save(user=request.user, name=name, query=query)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Saved this search as “{name}”.")
                return _back_to_queue(query)
        return _render_queue(request, form)
    if "saved" in request.GET:
        return _back_to_queue(_own_filter(request, request.GET["saved"]).query)
    return _render_queue(request, SavedFilterForm())


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
        # An account manager reads their customers' tickets (escalations link here).
        "read_only": not is_support_staff(request.user),
        "closed": ticket.status == Ticket.Status.CLOSED,
        "files_dropped": bool(request.FILES),
        **bound,
    }
    return render_zoned(request, "tickets/desk/detail.html", context)


@desk_reading
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
        initial={"received_at": now, "form_token": secrets.token_urlsafe(24)},
    )
    if form.is_bound and form.is_valid():
        data = dict(form.cleaned_data)
        token = data.pop("form_token", "")
        try:
            ticket = services.ticket_log(
                actor=request.user, idempotency_key=f"form:{token}" if token else "", **data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            replayed = getattr(ticket, "replayed", False)
            done = "had already been logged by this form" if replayed else "logged"
            response = _done(
                request, ticket, f"Ticket {ticket.reference} {done} for {ticket.customer}."
            )
            if ticket.unregistered_sender:
                # The SLA's rule for a caller who is not a registered person of the
                # customer (tickets.services.filing), whatever severity the agent chose.
                messages.warning(
                    request,
                    f"The caller is not a registered person of {ticket.customer}, so the "
                    f"SLA makes this Severity {ticket.severity} and marks the ticket "
                    "unregistered. Reclassify it below if the SLA allows.",
                )
            return response
    return render_zoned(
        request,
        "tickets/desk/new.html",
        {"form": form, "files_dropped": bool(request.FILES) and bool(form.errors)},
    )


@desk_reading
def attachment_download(request: HttpRequest, ticket_id: int, attachment_id: int):
    staff = is_support_staff(request.user)  # an account manager: the customer's files only
    return serve_attachment(tickets_visible_to(request.user), ticket_id, attachment_id, staff=staff)
