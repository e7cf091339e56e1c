"""Demo tickets: for each demo customer, tickets in every status and every clock state
over the last three months.

Every step goes through the services with ``now`` set to when it happened, so the stored
clocks, breach flags, history, escalations and e-mails are what the app itself would
have produced. Two kinds of ticket:

- history: done tickets filed two and one months back (on fixed days, in the
  customer's zone), some met and some breached, for the statements' support section;
- current: open tickets placed back from ``now`` by the business time their clocks
  have used, so the queue shows them on track, at risk, breached or paused. Time moves
  on after the demo is built, as it would: tomorrow today's at-risk tickets are breached.

Idempotent: a ticket is recognised by its customer and subject and never built twice.
The customer notifications and escalations these steps cause are queued in the outbox
like any other e-mail (in demo mode, ``.eml`` files under ``var/mail/``), once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import transaction

from contracts.calendars import BusinessCalendar
from contracts.demo import CUSTOMERS
from contracts.models import Contract, Customer, Service, User
from outages.demo import _month_back
from tickets.clocks import SupportTerms
from tickets.models import Channel, Ticket
from tickets.selectors import support_terms_for
from tickets.services import (
    ticket_file,
    ticket_from_unregistered_sender,
    ticket_log,
    ticket_reclassify,
    ticket_reply,
    ticket_set_status,
    ticket_take,
    tickets_escalate,
)

AGENT = "agent@provider.example"
RESPONSE, RESOLUTION = "response", "resolution"
RESOLVED, CLOSED = Ticket.Status.RESOLVED, Ticket.Status.CLOSED
WAITING = Ticket.Status.WAITING


@dataclass
class _Demo:
    """One customer's demo: who acts, under which terms, and the time helpers."""

    customer: Customer
    contract: Contract
    terms: SupportTerms
    person: User  # files tickets from the portal
    caller: User  # the customer admin who phones in
    agent: User
    services: list[Service]
    today: date
    now: datetime

    def calendar(self, severity: int) -> BusinessCalendar:
        return self.terms.calendar_for(severity)

    def target(self, severity: int, which: str) -> timedelta:
        response, resolution = self.terms.targets(severity)
        target = response if which == RESPONSE else resolution
        if target is None:
            raise ValueError(f"{self.contract}: severity {severity} has no {which} target")
        return target

    def history(self, months_back: int, day: int, clock: str) -> datetime:
        """A weekday ``months_back`` months ago at ``clock`` in the customer's zone."""
        moment = _month_back(self.today, months_back).replace(day=day)
        while moment.weekday() >= 5:
            moment += timedelta(days=1)
        local = datetime.combine(
            moment, time.fromisoformat(clock), ZoneInfo(self.customer.time_zone)
        )
        return local.astimezone(UTC)

    def after(self, start: datetime, severity: int, which: str, share: float) -> datetime:
        """When ``share`` of the target's business time since ``start`` has passed."""
        return self.at(self.calendar(severity).due(start, self.target(severity, which) * share))

    def back(self, severity: int, which: str, share: float) -> datetime:
        """The receipt time at which ``share`` of the target is used up by now.

        Business time elapsed up to now only shrinks as the receipt moves later, so a
        bisection finds it whatever the calendar (a weekend, a holiday, around the clock).
        """
        calendar, used = self.calendar(severity), self.target(severity, which) * share
        early, late = self.now - timedelta(days=60), self.now
        while late - early > timedelta(seconds=1):
            middle = early + (late - early) / 2
            if calendar.elapsed(middle, self.now) >= used:
                early = middle
            else:
                late = middle
        return early.replace(microsecond=0)

    def at(self, moment: datetime) -> datetime:
        if moment > self.now:  # a recipe that outruns the present is a bug in it
            raise ValueError(f"demo step at {moment:%Y-%m-%d %H:%M} is after now")
        return moment

    def service(self, n: int = 0) -> Service:
        return self.services[n % len(self.services)]

    # The services, with the demo's people.

    def file(self, subject: str, severity: int, at: datetime, text: str, n: int = 0) -> Ticket:
        return ticket_file(
            actor=self.person,
            service=self.service(n),
            subject=subject,
            description=text,
            severity=severity,
            now=self.at(at),
        )

    def reply(self, ticket: Ticket, at: datetime, body: str, **kwargs) -> Ticket:
        ticket_reply(
            ticket=ticket,
            actor=kwargs.pop("actor", self.agent),
            body=body,
            now=self.at(at),
            **kwargs,
        )
        return Ticket.objects.get(pk=ticket.pk)

    def note(self, ticket: Ticket, at: datetime, body: str) -> Ticket:
        return self.reply(ticket, at, body, public=False)

    def status(
        self, ticket: Ticket, status: str, at: datetime, actor: User | None = None
    ) -> Ticket:
        return ticket_set_status(
            ticket=ticket, status=status, actor=actor or self.agent, now=self.at(at)
        )

    def take(self, ticket: Ticket, at: datetime) -> Ticket:
        return ticket_take(ticket=ticket, actor=self.agent, now=self.at(at))


# ---------------------------------------------------------------- history (done)


def _met_and_closed(d: _Demo, subject: str) -> None:
    received = d.history(2, 3, "10:00")
    t = d.file(
        subject, 2, received, "Saving a topic shows 'conflict' for every author since this morning."
    )
    t = d.take(t, d.after(received, 2, RESPONSE, 0.2))
    t = d.reply(
        t, d.after(received, 2, RESPONSE, 0.5), "We can reproduce it and are working on a fix."
    )
    t = d.note(t, d.after(received, 2, RESPONSE, 0.6), "Lock table not cleaned after the failover.")
    t = d.status(t, RESOLVED, d.after(received, 2, RESOLUTION, 0.6))
    d.status(t, CLOSED, t.resolved_at + timedelta(days=2))


def _phone_severity_1(d: _Demo, subject: str) -> None:
    received = d.history(2, 9, "21:40")  # after hours: severity 1 by phone, as the SLA says
    t = ticket_log(
        actor=d.agent,
        customer=d.customer,
        service=d.service(),
        subject=subject,
        description="Caller reports that nobody can log in; the login page times out.",
        severity=1,
        channel=Channel.PHONE,
        received_at=received,
        requester=d.caller,
        now=d.at(received + timedelta(minutes=12)),
    )
    t = d.take(t, received + timedelta(minutes=13))
    t = d.reply(t, d.after(received, 1, RESPONSE, 0.6), "Confirmed: the identity provider is down.")
    t = d.status(t, RESOLVED, d.after(received, 1, RESOLUTION, 0.7))
    d.status(t, CLOSED, t.resolved_at + timedelta(days=1))


def _response_breached(d: _Demo, subject: str) -> None:
    received = d.history(2, 15, "14:00")
    t = d.file(subject, 3, received, "The PDF output drops the table of contents.", n=1)
    t = d.reply(t, d.after(received, 3, RESPONSE, 1.4), "Sorry for the wait: a fix is on its way.")
    t = d.status(t, RESOLVED, d.after(received, 3, RESOLUTION, 0.8))
    d.status(t, CLOSED, t.resolved_at + timedelta(days=2))


def _resolution_breached(d: _Demo, subject: str) -> None:
    received = d.history(1, 5, "09:30")
    t = d.file(subject, 2, received, "Scheduled exports stopped running two days ago.")
    asked = d.after(received, 2, RESPONSE, 0.3)
    t = d.reply(t, asked, "Could you send us the export log from the last run?")
    t = d.status(t, WAITING, asked + timedelta(minutes=1))
    log = ContentFile(b"2026 export job 4411: timeout after 300 s\n", name="export.log")
    t = d.reply(t, asked + timedelta(days=1), "Log attached.", actor=d.person, attachments=[log])
    t = d.status(t, RESOLVED, t.resolution_due_at + timedelta(hours=3))
    d.status(t, CLOSED, t.resolved_at + timedelta(days=2))


def _reclassified(d: _Demo, subject: str) -> None:
    received = d.history(1, 11, "11:00")
    t = d.file(subject, 3, received, "Publishing to production fails with error 502.", n=1)
    t = ticket_reclassify(
        ticket=t,
        severity=1,
        reason="Production publishing is down for every user: severity 1 under the SLA.",
        actor=d.agent,
        now=d.at(received + timedelta(minutes=15)),
    )
    t = d.reply(t, received + timedelta(minutes=25), "We are on it as a severity 1 issue.")
    t = d.status(t, RESOLVED, d.after(received, 1, RESOLUTION, 0.75))
    d.status(t, CLOSED, t.resolved_at + timedelta(days=2))


def _question_resolved_by_customer(d: _Demo, subject: str) -> None:
    received = d.history(1, 14, "15:00")
    t = d.file(subject, 4, received, "Is there a way to export all topics of one map at once?")
    answered = d.after(received, 4, RESPONSE, 0.3)
    t = d.reply(t, answered, "Yes: open the map, then Export > Whole map.")
    d.status(t, RESOLVED, answered + timedelta(days=1), actor=d.person)


# ---------------------------------------------------------------- current (open)


def _new_on_track(d: _Demo, subject: str) -> None:
    d.file(
        subject, 3, d.back(3, RESPONSE, 0.3), "Search results are sorted oddly for one map.", n=1
    )


def _new_at_risk(d: _Demo, subject: str) -> None:
    d.file(subject, 2, d.back(2, RESPONSE, 0.85), "Reviewers cannot open review links.")


def _taken_response_breached(d: _Demo, subject: str) -> None:
    received = d.back(3, RESPONSE, 1.5)
    t = d.file(subject, 3, received, "Images in one folder show as broken.")
    d.take(t, d.after(received, 3, RESPONSE, 0.5))


def _assigned_on_track(d: _Demo, subject: str) -> None:
    received = d.back(2, RESOLUTION, 0.3)
    t = d.file(subject, 2, received, "Translation jobs finish but the files are empty.", n=1)
    t = d.take(t, d.after(received, 2, RESPONSE, 0.1))
    t = d.reply(
        t, d.after(received, 2, RESPONSE, 0.3), "We see the empty files and are investigating."
    )
    d.note(t, d.after(received, 2, RESPONSE, 0.35), "Connector sends the wrong encoding; ask dev.")


def _unassigned_at_risk(d: _Demo, subject: str) -> None:
    received = d.back(3, RESOLUTION, 0.85)
    t = d.file(subject, 3, received, "Email notifications arrive hours late.")
    d.reply(t, d.after(received, 3, RESPONSE, 0.5), "Thanks, we have passed this to the mail team.")


def _resolution_breached_running(d: _Demo, subject: str) -> None:
    received = d.back(1, RESOLUTION, 1.25)
    t = d.file(subject, 1, received, "The whole service is unreachable for our team.")
    t = d.take(t, received + timedelta(minutes=5))
    t = d.reply(
        t, d.after(received, 1, RESPONSE, 0.5), "We are investigating with the highest priority."
    )
    d.note(t, d.after(received, 1, RESPONSE, 0.6), "Customer's tenant pinned to the failed node.")


def _waiting_on_customer(d: _Demo, subject: str) -> None:
    received = d.back(2, RESOLUTION, 0.4)
    t = d.file(subject, 2, received, "Some users are logged out every few minutes.", n=1)
    asked = d.after(received, 2, RESPONSE, 0.4)
    t = d.reply(t, asked, "Which browser and version do the affected users have?")
    d.status(t, WAITING, asked + timedelta(minutes=2))


def _resolved_recently(d: _Demo, subject: str) -> None:
    received = d.back(3, RESOLUTION, 0.6)
    t = d.file(subject, 3, received, "A custom font is missing from the HTML output.")
    t = d.reply(t, d.after(received, 3, RESPONSE, 0.3), "The font was not in the theme; added.")
    d.status(t, RESOLVED, d.after(received, 3, RESOLUTION, 0.5))


def _unregistered_email(d: _Demo, subject: str) -> None:
    received = d.back(4, RESPONSE, 0.2)
    domain = d.person.email.rpartition("@")[2]
    ticket_from_unregistered_sender(
        sender_email=f"contractor@{domain}",
        subject=subject,
        description="Hello, I work with your customer and cannot find the style guide. Can you help?",
        received_at=received,
        customer=d.customer,
        now=d.at(received + timedelta(minutes=1)),
    )


RECIPES: list[tuple[str, Callable[[_Demo, str], None]]] = [
    ("Saving topics fails with a conflict error", _met_and_closed),
    ("Nobody can log in (phoned in)", _phone_severity_1),
    ("PDF output is missing its table of contents", _response_breached),
    ("Scheduled exports stopped", _resolution_breached),
    ("Publishing to production fails", _reclassified),
    ("How do I export a whole map?", _question_resolved_by_customer),
    ("Search results sorted oddly", _new_on_track),
    ("Review links do not open", _new_at_risk),
    ("Broken images in one folder", _taken_response_breached),
    ("Translation jobs return empty files", _assigned_on_track),
    ("Notifications arrive late", _unassigned_at_risk),
    ("Service unreachable", _resolution_breached_running),
    ("Users logged out every few minutes", _waiting_on_customer),
    ("Custom font missing from HTML output", _resolved_recently),
    ("Question about the style guide", _unregistered_email),
]


@transaction.atomic
def demo_tickets(*, today: date, now: datetime) -> int:
    """Build the demo tickets of every demo customer that has a contract; returns how
    many were made (0 when they all exist). Then runs the escalation job once, as the
    every-minute task would have."""
    agent = User.objects.get(username=AGENT)
    made = 0
    references = [reference for _, _, _, reference, _, _ in CUSTOMERS]
    contracts = Contract.objects.filter(reference__in=references).select_related(
        "customer", "policy"
    )
    for contract in contracts.order_by("reference"):
        customer = contract.customer
        people = {u.username.partition("@")[0]: u for u in customer.members.all()}
        demo = _Demo(
            customer=customer,
            contract=contract,
            terms=support_terms_for(contract),
            person=people["user"],
            caller=people["admin"],
            agent=agent,
            services=[line.service for line in contract.lines.select_related("service")],
            today=today,
            now=now,
        )
        existing = set(Ticket.objects.filter(customer=customer).values_list("subject", flat=True))
        for subject, recipe in RECIPES:
            if subject not in existing:
                recipe(demo, subject)
                made += 1
    tickets_escalate(now=now)
    return made
