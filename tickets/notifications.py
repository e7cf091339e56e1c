"""E-mail about tickets, through the outbox: one function per kind, each with subject,
text and HTML templates under ``templates/tickets/email/``.

Customers hear about public staff replies and status changes; internal notes are never
e-mailed (``notify_public_reply`` refuses them, whoever calls it). Staff hear about
escalations. Every message has a dedupe key, so it is queued at most once.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from contracts.models import User
from outbox.services import outbox_enqueue
from slaportal import roles
from tickets.models import Escalation, Ticket, TicketEvent, TicketMessage


def _render(kind: str, context: dict) -> tuple[str, str, str]:
    portal_url = settings.PORTAL_URL.rstrip("/")
    context = {"portal_url": portal_url, "provider": settings.PROVIDER_NAME, **context}
    if "ticket" in context:  # customers get their portal page, staff the desk's
        page = "desk-ticket" if kind.startswith("escalation") else "portal-ticket"
        context.setdefault("ticket_url", portal_url + reverse(page, args=[context["ticket"].pk]))
    subject = render_to_string(f"tickets/email/{kind}_subject.txt", context)
    text = render_to_string(f"tickets/email/{kind}.txt", context)
    html = render_to_string(f"tickets/email/{kind}.html", context)
    return " ".join(subject.split()), text, html


def _send(kind: str, *, to: Sequence[str], dedupe_key: str, context: dict) -> bool:
    recipients = [address for address in to if address]
    if not recipients:
        return False
    subject, text, html = _render(kind, context)
    _, created = outbox_enqueue(
        to=recipients, subject=subject, body=text, html_body=html, dedupe_key=dedupe_key
    )
    return created


def notify_public_reply(message: TicketMessage) -> bool:
    """Tell the customer about a public staff reply; True when an e-mail was queued."""
    if not (message.public and message.from_staff):
        return False  # internal notes and the customer's own words are never e-mailed
    ticket = message.ticket
    return _send(
        "reply",
        to=[ticket.notify_address],
        dedupe_key=f"ticket-reply:{message.pk}",
        context={"ticket": ticket, "message": message},
    )


def notify_status_change(event: TicketEvent) -> bool:
    """Tell the customer their ticket's status changed."""
    ticket = event.ticket
    labels = dict(Ticket.Status.choices)
    return _send(
        "status",
        to=[ticket.notify_address],
        dedupe_key=f"ticket-status:{event.pk}",
        context={
            "ticket": ticket,
            "from_status": labels.get(event.from_status, event.from_status),
            "to_status": labels.get(event.to_status, event.to_status),
        },
    )


def escalation_recipients(ticket: Ticket, level: str) -> list[str]:
    """75 %: the assignee, or every agent while nobody has it. Breach: the customer's
    account managers."""
    if level == Escalation.Level.AT_RISK:
        if ticket.assignee_id and ticket.assignee.is_active and ticket.assignee.email:
            return [ticket.assignee.email]
        people = User.objects.filter(is_active=True, groups__name=roles.AGENT)
    elif ticket.customer_id:
        people = ticket.customer.account_managers.filter(is_active=True)
    else:
        return []
    return sorted(set(people.exclude(email="").values_list("email", flat=True)))


def notify_escalation(escalation: Escalation) -> bool:
    return _send(
        f"escalation_{escalation.level}",
        to=escalation.recipients,
        dedupe_key=f"ticket-escalation:{escalation.ticket_id}:{escalation.target}:"
        f"{escalation.level}",
        context={
            "ticket": escalation.ticket,
            "escalation": escalation,
            "target": escalation.get_target_display().lower(),
        },
    )
