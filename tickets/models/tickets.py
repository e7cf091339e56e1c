"""Support tickets, their conversation, attachments, history, pauses and escalations.

Every write goes through ``tickets.services``. The SLA columns of a ticket
(``*_target``, ``*_due_at``, ``*_at_risk_at``, the breach flags, ``next_due_at`` and
``next_escalation_at``) are stored rather than computed on each read: the agent queue
orders 200,000 tickets by the nearest open deadline and the escalation job finds the
tickets that need it with one indexed range query. The services recompute them from
``tickets.clocks`` whenever a fact they depend on changes (receipt, severity, pauses,
first response, resolution).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from contracts.models import Contract, Customer, Service

REFERENCE_RE = re.compile(r"\bT-(\d{6,})\b")


def ticket_pk_from_reference(text: str) -> int | None:
    """The ticket id in a reference such as ``T-000123`` found anywhere in ``text``
    (an e-mail subject, a search box); None when there is none."""
    match = REFERENCE_RE.search(text or "")
    return int(match.group(1)) if match else None


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        WAITING = "waiting_on_customer", "Waiting on customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING)
    DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)

    # Null only for a sender nobody could match to a customer (see unregistered_sender).
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    subject = models.CharField(max_length=200)
    description = models.TextField()
    severity = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    received_at = models.DateTimeField(help_text="When the issue reached us; the clocks start.")
    created_at = models.DateTimeField(help_text="When the ticket was entered.")
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who entered it: the customer person, or the agent who logged it.",
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_tickets",
        help_text="The customer person the ticket is for (notifications go to them).",
    )
    sender_email = models.EmailField(
        blank=True, help_text="Where to write when there is no requester (e-mail, phone)."
    )
    unregistered_sender = models.BooleanField(
        default=False, help_text="From someone who is not a registered user (SLA: severity 4)."
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    # Colleagues of the requester who receive the public messages (CC).
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="watched_tickets"
    )

    # SLA clocks (stored; see the module docstring).
    response_target = models.DurationField(null=True, blank=True)
    resolution_target = models.DurationField(null=True, blank=True)
    response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    response_at_risk_at = models.DateTimeField(null=True, blank=True)
    resolution_at_risk_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(
        null=True, blank=True, help_text="The first public reply by staff."
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    # The nearest deadline of a clock still running (null: none; the queue puts those last).
    next_due_at = models.DateTimeField(null=True, blank=True)
    # When the escalation job next has something to do for this ticket.
    next_escalation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # One index per list order (keyset pages read a range of it; none sorts the
        # table): tests/slaportal/test_list_indexes.py checks each list's plan.
        indexes = [
            # The API's ?ordering=due, over every status.
            models.Index(fields=["next_due_at", "id"], name="ticket_queue_idx"),
            # The desk's queue (agent_queue): open tickets only, a tenth of the table.
            models.Index(
                fields=["next_due_at", "id"],
                name="ticket_open_queue_idx",
                condition=Q(status__in=["new", "open", "waiting_on_customer"]),
            ),
            # The desk's queue of one customer (?customer=, or the customers a name finds).
            models.Index(
                fields=["customer", "next_due_at", "id"],
                name="ticket_customer_queue_idx",
                condition=Q(status__in=["new", "open", "waiting_on_customer"]),
            ),
            # The desk with one open status; the API's ?status=…&ordering=due.
            models.Index(fields=["status", "next_due_at", "id"], name="ticket_status_due_idx"),
            # The desk with any status: open ones by deadline, then the rest newest first.
            models.Index(fields=["next_due_at", "-created_at", "-id"], name="ticket_desk_all_idx"),
            # Newest first: the staff API; a customer's (API and portal); one status's
            # (the desk's resolved or closed tickets, the API's ?status=).
            models.Index(fields=["-created_at", "-id"], name="ticket_newest_idx"),
            models.Index(
                fields=["customer", "-created_at", "-id"], name="ticket_customer_list_idx"
            ),
            models.Index(fields=["status", "-created_at", "-id"], name="ticket_status_newest_idx"),
            models.Index(
                fields=["next_escalation_at"],
                name="ticket_escalation_idx",
                condition=Q(next_escalation_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=4),
                name="ticket_severity_1_4",
                violation_error_message="Severity must be 1–4.",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["new", "open", "waiting_on_customer", "resolved", "closed"]
                ),
                name="ticket_known_status",
                violation_error_message="Unknown ticket status.",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values),
                name="ticket_known_channel",
                violation_error_message="Unknown channel.",
            ),
            models.CheckConstraint(
                condition=~Q(subject=""),
                name="ticket_subject_not_blank",
                violation_error_message="Give the ticket a subject.",
            ),
            models.CheckConstraint(
                condition=Q(unregistered_sender=True)
                | Q(customer__isnull=False, contract__isnull=False),
                name="ticket_registered_has_contract",
                violation_error_message="A ticket from a registered user belongs to a contract.",
            ),
            models.CheckConstraint(
                condition=Q(contract__isnull=True) | Q(customer__isnull=False),
                name="ticket_contract_has_customer",
                violation_error_message="A ticket under a contract names its customer.",
            ),
            models.CheckConstraint(
                condition=Q(unregistered_sender=False) | ~Q(sender_email=""),
                name="ticket_unregistered_has_sender",
                violation_error_message="A ticket from an unregistered sender keeps the address.",
            ),
            models.CheckConstraint(
                condition=Q(received_at__lte=F("created_at")),
                name="ticket_received_before_created",
                violation_error_message="A ticket cannot be received after it was entered.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["resolved", "closed"], resolved_at__isnull=False)
                | Q(status__in=["new", "open", "waiting_on_customer"], resolved_at__isnull=True),
                name="ticket_resolved_at_iff_resolved",
                violation_error_message="Only a resolved or closed ticket has a resolution time.",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="ticket_closed_at_iff_closed",
                violation_error_message="Only a closed ticket has a closing time.",
            ),
            models.CheckConstraint(
                condition=Q(responded_at__isnull=True) | Q(responded_at__gte=F("received_at")),
                name="ticket_responded_after_received",
                violation_error_message="A ticket cannot be answered before it was received.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("received_at")),
                name="ticket_resolved_after_received",
                violation_error_message="A ticket cannot be resolved before it was received.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        """``T-000123``: what customers quote and what e-mail subjects carry."""
        return f"T-{self.pk:06d}" if self.pk else "T-(new)"

    @property
    def notify_address(self) -> str:
        """Where customer notifications go: the requester, else the sender's address."""
        if self.requester_id and self.requester.email:
            return self.requester.email
        return self.sender_email
