"""Shared by the portal and desk ticket pages: list rows with their clock states, the
clock panels and thread of one ticket, and serving an attachment. (The viewer's zone and
pagination: ``slaportal.pages``.)"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import dateformat, timezone
from django.utils.html import format_html

from contracts.models import User
from slaportal.formatting import duration_text
from slaportal.storage import unavailable_errors
from tickets.clocks import Clock, SupportTerms, Target
from tickets.models import Attachment, Ticket
from tickets.selectors import (
    ClockStates,
    is_support_staff,
    messages_visible_to,
    support_calendar_of,
    support_terms_for,
    ticket_clocks,
    ticket_states,
)

log = logging.getLogger(__name__)

STORAGE_UNAVAILABLE = "The file storage cannot be reached right now; try again in a few minutes."
# Badge colour of each clock state (see .badge--* in portal.css).
STATE_BADGES = {
    "on_track": "primary",
    "at_risk": "warning",
    "breached": "danger",
    "met": "success",
    "paused": "neutral",
    "no_target": "neutral",
}


# ---------------------------------------------------------------- lists


# The status badge's colour (see .badge--* in portal.css); any other status: primary.
STATUS_BADGES = {"waiting_on_customer": "warning", "resolved": "success", "closed": "neutral"}
RUNNING = frozenset({"on_track", "at_risk", "breached"})  # a clock that is still due


def status_badge(ticket: Ticket) -> str:
    """The ticket's status as a badge (lists and ticket pages)."""
    colour = STATUS_BADGES.get(ticket.status, "primary")
    return format_html(
        '<span class="badge badge--{}" data-testid="ticket-status">{}</span>',
        colour,
        ticket.get_status_display(),
    )


def clock_cell(state: str, label: str, due: datetime | None) -> str:
    """A list row's clock: its state and, while it runs, when it is due — in the zone
    being rendered (``render_zoned``): rows build their cells as the template reads them.
    Built here rather than by an included template: a page of 25–50 rows spent most of
    its time in the includes (bench/load.py)."""
    badge = format_html('<span class="badge badge--{}">{}</span>', STATE_BADGES[state], label)
    if due is None or state not in RUNNING:
        return badge
    when = dateformat.format(timezone.localtime(due), "j M, H:i")
    word = "was due" if state == "breached" else "due"
    return format_html('{}\n<span class="cell-sub nowrap">{} {}</span>', badge, word, when)


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    states: ClockStates
    with_due: bool = True  # the clock cells say when each clock is due

    @property
    def response_badge(self) -> str:
        return STATE_BADGES[self.states.response]

    @property
    def resolution_badge(self) -> str:
        return STATE_BADGES[self.states.resolution]

    @property
    def breached(self) -> bool:
        return "breached" in (self.states.response, self.states.resolution)

    @property
    def status_badge(self) -> str:
        return status_badge(self.ticket)

    @property
    def response_cell(self) -> str:
        due = self.ticket.response_due_at if self.with_due else None
        return clock_cell(self.states.response, self.states.response_label, due)

    @property
    def resolution_cell(self) -> str:
        due = self.ticket.resolution_due_at if self.with_due else None
        return clock_cell(self.states.resolution, self.states.resolution_label, due)


def rows(page: Iterable[Ticket], now: datetime, *, with_due: bool = True) -> list[Row]:
    """Each ticket of a page with its clock states, from stored columns (no query)."""
    return [Row(ticket, ticket_states(ticket, now), with_due) for ticket in page]


# ---------------------------------------------------------------- one ticket


def target_text(target: Target | None) -> str:
    return "No target" if target is None else target.text


def severity_targets(contract) -> dict[int, str]:
    """Each severity's targets in words, for the filing form ("First response within 4
    hours · resolution within 2 business days · in support hours")."""
    terms = support_terms_for(contract)
    out = {}
    for level, targets in terms.severities.items():
        response, resolution = target_text(targets.response), target_text(targets.resolution)
        if response == resolution == "No target":
            out[level] = "No response or resolution target"
            continue
        on_calendar = terms.calendar_for(level) is terms.calendar
        out[level] = " · ".join(
            [
                f"First response within {response}"
                if response != "No target"
                else "No response target",
                f"resolution within {resolution}"
                if resolution != "No target"
                else "no resolution target",
                "in support hours" if on_calendar else "around the clock",
            ]
        )
    return out


@dataclass(frozen=True)
class ClockPanel:
    name: str
    stopped_label: str
    clock: Clock
    target: str

    @property
    def badge(self) -> str:
        return STATE_BADGES[self.clock.state]

    @property
    def remaining(self) -> str:
        left = self.clock.remaining
        # Business time: a help desk "day" is not 24 hours, so no days.
        return duration_text(left) if left else ""


@dataclass(frozen=True)
class Clocks:
    response: ClockPanel
    resolution: ClockPanel
    hours: str  # the support hours the clocks count

    def __iter__(self):
        return iter((self.response, self.resolution))


def clock_panels(ticket: Ticket, now: datetime) -> Clocks:
    terms: SupportTerms = support_terms_for(ticket.contract)
    clocks = ticket_clocks(ticket, now, terms=terms)
    severity = terms.severities.get(ticket.severity)
    calendar = support_calendar_of(ticket.contract)
    if ticket.contract is None:
        hours = "No contract: no targets apply."
    elif calendar is None or (severity is not None and severity.around_the_clock):
        hours = f"Severity {ticket.severity} clocks run around the clock."
    else:
        hours = f"Clocks count support hours only: {calendar.name}."
    return Clocks(
        response=ClockPanel(
            "First response",
            "Answered",
            clocks.response,
            target_text(severity.response if severity else None),
        ),
        resolution=ClockPanel(
            "Resolution",
            "Resolved",
            clocks.resolution,
            target_text(severity.resolution if severity else None),
        ),
        hours=hours,
    )


@dataclass
class Entry:
    """One item of the thread: the ticket's opening description, or a message."""

    author: str
    created_at: datetime
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    public: bool = True
    from_staff: bool = False
    sender_unverified: bool = False
    opening: bool = False
    channel: str = ""
    # The whole e-mail a reply was cut from (quoted thread included): staff only.
    original_text: str = ""


def _person(user: User | None, fallback: str = "") -> str:
    if user is None:
        return fallback or "Unknown sender"
    return user.get_full_name() or user.get_username()


def thread(ticket: Ticket, user: User) -> list[Entry]:
    """The opening description with the files filed with it, then the messages ``user``
    may read (internal notes only for support staff)."""
    if ticket.requester_id:
        author = _person(ticket.requester)
    else:
        author = ticket.sender_email or _person(ticket.created_by)
    opening = Entry(
        author=author,
        created_at=ticket.received_at,
        body=ticket.description,
        attachments=list(ticket.attachments.filter(message__isnull=True)),
        opening=True,
        channel=ticket.get_channel_display(),
    )
    entries = [opening]
    staff = is_support_staff(user)
    for message in messages_visible_to(ticket, user):
        entries.append(
            Entry(
                author=_person(message.author, message.author_email),
                created_at=message.created_at,
                body=message.body,
                attachments=list(message.attachments.all()),
                public=message.public,
                from_staff=message.from_staff,
                sender_unverified=message.sender_unverified,
                original_text=message.original_text if staff else "",
                channel=message.get_channel_display(),
            )
        )
    return entries


def serve_attachment(tickets: QuerySet[Ticket], ticket_id: int, attachment_id: int, *, staff: bool):
    """Download one attachment of a ticket in ``tickets`` (the viewer's visible tickets).

    A file of another customer's ticket, or (for customers) of an internal note, is a
    404. Always a download, as the type we accepted it as, never sniffed or rendered
    inline: an uploaded HTML or SVG file must not run in the portal's origin.
    """
    ticket = get_object_or_404(tickets, pk=ticket_id)
    attachment = get_object_or_404(
        Attachment.objects.select_related("message"), ticket=ticket, pk=attachment_id
    )
    if not staff and not attachment.public:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    except unavailable_errors() as exc:
        log.error("attachment %s: storage unreachable: %r", attachment.pk, exc)
        return HttpResponse(STORAGE_UNAVAILABLE, status=503, content_type="text/plain")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
