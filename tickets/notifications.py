"""E-mail about tickets, through the outbox: one function per kind, each with subject,
text and HTML templates under ``tickets/templates/tickets/email/`` (the HTML on one
inline-styled layout, ``_layout.html``, which mail clients keep).

- **The customer side**: the requester gets a receipt when a ticket is filed (its
  reference, what its severity means, when the answers are due), the support team's
  public replies, status changes and reclassifications with their reason. Watchers
  (colleagues the requester added) get the public replies. Internal notes are never
  e-mailed (``notify_public_reply`` refuses them, whoever calls it).
- **The desk**: a new ticket and a customer's reply go to the assignee, or to every
  agent while nobody has the ticket; escalations go as ``escalation_recipients`` says.

One message per recipient, rendered in their time zone (``User.time_zone``; an address
without an account: the customer's zone), threaded with the ticket's other e-mails
(``tickets.mailthread``). A person who turned a kind off on their profile
(``email_ticket_updates``, ``email_desk_alerts``) is not sent it; receipts and
escalations always go. Every message has a dedupe key, so it is queued at most once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from contracts.models import User
from outbox.services import outbox_enqueue
from slaportal import roles
from tickets.mailthread import message_id_for, thread_headers
from tickets.models import Escalation, Ticket, TicketEvent, TicketMessage
from tickets.selectors import support_terms_for

Recipient = User | str  # a person, or an address without an account


def _zone(recipient: Recipient, ticket: Ticket) -> ZoneInfo:
    name = getattr(recipient, "time_zone", "") or getattr(ticket.customer, "time_zone", "")
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _address(recipient: Recipient) -> str:
    return (recipient.email if isinstance(recipient, User) else recipient or "").strip()


def _render(kind: str, context: dict, zone: ZoneInfo) -> tuple[str, str, str]:
    context = {"provider": settings.PROVIDER_NAME, "zone": zone.key, **context}
    with timezone.override(zone):
        subject = render_to_string(f"tickets/email/{kind}_subject.txt", context)
        text = render_to_string(f"tickets/email/{kind}.txt", context)
        html = render_to_string(f"tickets/email/{kind}.html", context)
    return " ".join(subject.split()), text, html


def _send(
    kind: str,
    ticket: Ticket,
    recipients: Iterable[Recipient],
    *,
    dedupe_key: str,
    context: dict,
    staff_page: bool = False,
    first: bool = False,
    origin: str = "",
) -> int:
    """Queue one message per recipient with an address; how many were queued."""
    portal_url = settings.PORTAL_URL.rstrip("/")
    page = reverse("desk-ticket" if staff_page else "portal-ticket", args=[ticket.pk])
    context = {"ticket": ticket, "ticket_url": portal_url + page, **context}
    # The thread's headers are the same for every recipient (read once); each message
    # has its own Message-ID, the receipt's first one the thread's own.
    thread_id, headers = thread_headers(ticket, first=first, origin=origin)
    sent, seen = 0, set()
    for recipient in recipients:
        address = _address(recipient)
        if not address or address.lower() in seen:
            continue
        message_id = thread_id if first and not seen else message_id_for(ticket)
        seen.add(address.lower())
        subject, text, html = _render(kind, context, _zone(recipient, ticket))
        digest = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
        _, created = outbox_enqueue(
            to=[address],
            subject=subject,
            body=text,
            html_body=html,
            dedupe_key=f"{dedupe_key}:{digest}",
            message_id=message_id,
            headers=headers,
        )
        sent += created
    return sent


# ---------------------------------------------------------------- the customer side


def _requester(ticket: Ticket) -> list[Recipient]:
    return [ticket.requester] if ticket.requester_id else [ticket.sender_email]


def _wants_updates(recipients: list[Recipient]) -> list[Recipient]:
    return [r for r in recipients if not isinstance(r, User) or r.email_ticket_updates]


def severity_meaning(ticket: Ticket) -> str:
    """What the ticket's severity promises, in words ("first response within 4 hours,
    resolution within 2 business days, in support hours")."""
    terms = support_terms_for(ticket.contract)
    targets = terms.severities.get(ticket.severity)
    if targets is None:
        return "No response or resolution target."
    parts = [
        f"first response within {targets.response.text}" if targets.response else "",
        f"resolution within {targets.resolution.text}" if targets.resolution else "",
    ]
    words = ", ".join(p for p in parts if p) or "no response or resolution target"
    hours = terms.calendar_for(ticket.severity) is terms.calendar and terms.calendar
    return f"{words[0].upper()}{words[1:]}{', in support hours' if hours else ''}."


def notify_filed(ticket: Ticket, *, origin: str = "") -> int:
    """The requester's receipt (it starts the e-mail thread, answering ``origin``, the
    customer's own e-mail, when there is one) and the desk's alert."""
    sent = _send(
        "receipt",
        ticket,
        _requester(ticket),
        dedupe_key=f"ticket-receipt:{ticket.pk}",
        context={"meaning": severity_meaning(ticket)},
        first=True,
        origin=origin,
    )
    return sent + _desk_alert("desk_new", ticket, f"ticket-new:{ticket.pk}", {})


def notify_public_reply(message: TicketMessage) -> int:
    """Tell the requester and the watchers about a public staff reply."""
    if not (message.public and message.from_staff):
        return 0  # internal notes and the customer's own words are never e-mailed
    ticket = message.ticket
    people = _requester(ticket) + list(ticket.watchers.filter(is_active=True))
    return _send(
        "reply",
        ticket,
        _wants_updates(people),
        dedupe_key=f"ticket-reply:{message.pk}",
        context={"message": message},
    )


def notify_status_change(event: TicketEvent) -> int:
    """Tell the requester their ticket's status changed."""
    labels = dict(Ticket.Status.choices)
    return _send(
        "status",
        event.ticket,
        _wants_updates(_requester(event.ticket)),
        dedupe_key=f"ticket-status:{event.pk}",
        context={
            "from_status": labels.get(event.from_status, event.from_status),
            "to_status": labels.get(event.to_status, event.to_status),
        },
    )


def notify_reclassified(event: TicketEvent) -> int:
    """Tell the requester the severity changed, why, and what it now promises."""
    return _send(
        "reclassified",
        event.ticket,
        _wants_updates(_requester(event.ticket)),
        dedupe_key=f"ticket-reclassified:{event.pk}",
        context={"event": event, "meaning": severity_meaning(event.ticket)},
    )


# ---------------------------------------------------------------- the desk


def _desk(ticket: Ticket) -> list[User]:
    """The assignee, or every active agent while nobody has the ticket; those who
    turned desk alerts off are left out."""
    if ticket.assignee_id:
        people = [ticket.assignee] if ticket.assignee.is_active else []
    else:
        people = list(User.objects.filter(is_active=True, groups__name=roles.AGENT))
    return [p for p in people if p.email_desk_alerts]


def _desk_alert(kind: str, ticket: Ticket, dedupe_key: str, context: dict) -> int:
    return _send(
        kind, ticket, _desk(ticket), dedupe_key=dedupe_key, context=context, staff_page=True
    )


def notify_customer_reply(message: TicketMessage) -> int:
    """Tell the desk the customer wrote (a public message not from staff)."""
    if message.from_staff:
        return 0
    return _desk_alert(
        "desk_reply", message.ticket, f"ticket-desk-reply:{message.pk}", {"message": message}
    )


def escalation_recipients(ticket: Ticket, level: str) -> list[str]:
    """75 %: the assignee, or every agent while nobody has it. Breach: the customer's
    account managers (who may open their customers' tickets on the desk)."""
    if level == Escalation.Level.AT_RISK:
        if ticket.assignee_id and ticket.assignee.is_active and ticket.assignee.email:
            return [ticket.assignee.email]
        people = User.objects.filter(is_active=True, groups__name=roles.AGENT)
    elif ticket.customer_id:
        people = ticket.customer.account_managers.filter(is_active=True)
    else:
        return []
    return sorted(set(people.exclude(email="").values_list("email", flat=True)))


def notify_escalation(escalation: Escalation) -> int:
    people = {u.email: u for u in User.objects.filter(email__in=escalation.recipients)}
    return _send(
        f"escalation_{escalation.level}",
        escalation.ticket,
        [people.get(address, address) for address in escalation.recipients],
        dedupe_key=f"ticket-escalation:{escalation.ticket_id}:{escalation.target}:"
        f"{escalation.level}",
        context={"escalation": escalation, "target": escalation.get_target_display().lower()},
        staff_page=True,
    )
