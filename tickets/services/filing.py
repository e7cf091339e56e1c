"""New tickets: filed by a customer person, logged by an agent from a call or an e-mail,
or received from a sender who is not a registered user."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.validators import validate_email
from django.utils import timezone

from contracts.models import Contract, Customer, Service, User
from slaportal.months import local_date
from tickets.attachments import check_uploads, store_uploads
from tickets.models import Channel, Ticket, TicketEvent
from tickets.notifications import notify_filed
from tickets.selectors import active_contract
from tickets.services._common import (
    atomic_with_files,
    check_subject,
    clean_text,
    now_or,
    parse_severity,
    record_event,
    require_support_staff,
    sync_clocks,
)
from tickets.services.intake import clean_key, earlier_filing, filed_once

UNREGISTERED_DEFAULT_SEVERITY = 4


def _local_date(moment: datetime, customer: Customer) -> date:
    """Contracts run by dates; a moment's date is the customer's local date."""
    return local_date(moment, customer.time_zone)


def _contract_for(
    customer: Customer, service: Service | None, on: datetime, errors: dict, *, required: bool
) -> Contract | None:
    if service is None:
        if required:
            errors["service"] = ["Choose the affected service."]
            return None
        contract = active_contract(customer, on=_local_date(on, customer))
    else:
        contract = active_contract(customer, service, on=_local_date(on, customer))
    if contract is None and "service" not in errors:
        what = f"covering {service}" if service is not None else "in force"
        errors["service"] = [f"{customer} has no active contract {what}."]
    return contract


def _common_checks(subject: str, description: str, errors: dict[str, list[str]]) -> None:
    check_subject(subject, errors)
    if not description:
        errors["description"] = ["Describe the issue."]


def _create(
    *,
    fields: dict[str, Any],
    attachments: Sequence[File],
    actor: User | None,
    now: datetime,
    origin: str = "",
) -> Ticket:
    """Write a checked ticket with its clocks, its 'created' event and its files; queue
    the requester's receipt and the desk's alert (``origin``: the Message-ID of the
    customer's e-mail that opened it, which the receipt answers)."""
    uploads, upload_errors = check_uploads(attachments)
    if upload_errors:  # the callers checked already; a direct caller may not have
        raise ValidationError({"attachments": upload_errors})
    ticket = Ticket(created_at=now, status=Ticket.Status.NEW, **fields)
    sync_clocks(ticket, now=now, new=True)
    with atomic_with_files() as stored:
        ticket.save()
        record_event(ticket, TicketEvent.Kind.CREATED, actor=actor, now=now)
        store_uploads(uploads, ticket=ticket, message=None, actor=actor, now=now, stored=stored)
        notify_filed(ticket, origin=origin)
    return ticket


def ticket_file(
    *,
    actor: User,
    service: Service | None,
    subject: str,
    description: str,
    severity: Any,
    attachments: Sequence[File] = (),
    channel: str = Channel.PORTAL,
    now: datetime | None = None,
    origin: str = "",
    idempotency_key: str = "",
) -> Ticket:
    """A customer person files a ticket (portal, or e-mail from a registered address).

    The person's organisation needs a contract in force today that covers ``service``
    (for e-mail, where no service is named, any contract in force). Received now; the
    clocks start now. Refused input raises ``ValidationError`` keyed by field
    (``subject``, ``description``, ``severity``, ``service``, ``attachments``) and saves
    nothing, files included.
    """
    now = now_or(now)
    if actor is None or not actor.customer_id:
        raise PermissionDenied("Only customer people file tickets; staff log them.")
    customer = actor.customer
    if not customer.is_active or not actor.is_active:
        raise PermissionDenied("This organisation's access to support is suspended.")
    key = clean_key(idempotency_key)
    earlier = earlier_filing(actor, key)
    if earlier is not None:
        return earlier
    errors: dict[str, list[str]] = {}
    subject, description = clean_text(subject), clean_text(description)
    _common_checks(subject, description, errors)
    level = parse_severity(severity)
    if level is None:
        errors["severity"] = ["Choose a severity from 1 to 4."]
    if channel not in (Channel.PORTAL, Channel.EMAIL):
        errors["channel"] = ["A customer files through the portal or by e-mail."]
    contract = _contract_for(customer, service, now, errors, required=channel == Channel.PORTAL)
    _, upload_errors = check_uploads(attachments)
    if upload_errors:
        errors["attachments"] = upload_errors
    if errors:
        raise ValidationError(errors)
    fields = {
        "customer": customer,
        "contract": contract,
        "service": service,
        "subject": subject,
        "description": description,
        "severity": level,
        "channel": channel,
        "received_at": now,
        "created_by": actor,
        "requester": actor,
    }
    return filed_once(
        actor,
        key,
        lambda: _create(
            fields=fields, attachments=attachments, actor=actor, now=now, origin=origin
        ),
    )


def _received_at(value: datetime | None, now: datetime, errors: dict[str, list[str]]) -> None:
    if value is None:
        errors["received_at"] = ["Give the time the issue was received."]
    elif not isinstance(value, datetime) or timezone.is_naive(value):
        errors["received_at"] = ["Give the time received with its time zone."]
    elif value > now:
        errors["received_at"] = ["The time received cannot be in the future."]


def _email_address(value: str, field: str, errors: dict[str, list[str]]) -> str:
    address = clean_text(value)
    if address:
        try:
            validate_email(address)
        except ValidationError:
            errors[field] = [f"{address!r} is not an e-mail address."]
    return address


def _caller_rule(
    customer: Customer | None,
    contract: Contract | None,
    requester: User | None,
    sender_email: str,
    level: int | None,
    errors: dict[str, list[str]],
) -> tuple[User | None, int | None, bool]:
    """(requester, severity, unregistered) of a logged call or e-mail, as the SLA rules.

    A registered person of ``customer`` (the requester, or the active person whose
    address the agent gave as the caller's) files at the severity the agent chose. Anyone
    else is an unregistered caller: the policy's unregistered-sender severity (4 without
    one) and the flag, as ``ticket_from_unregistered_sender`` gives mail from an unknown
    address; staff may reclassify it later. Their address is where the e-mails go, so
    it is needed.
    """
    if requester is None and customer is not None and sender_email:
        requester = customer.members.filter(is_active=True, email__iexact=sender_email).first()
    if requester is not None or customer is None:
        if level is None:
            errors["severity"] = ["Choose a severity from 1 to 4."]
        return requester, level, False
    if not sender_email and "sender_email" not in errors:
        errors["sender_email"] = [
            "Give the caller's e-mail: they are not a registered person of the customer."
        ]
    policy_level = contract.policy.unregistered_sender_severity if contract else None
    return None, policy_level or UNREGISTERED_DEFAULT_SEVERITY, True


def ticket_log(
    *,
    actor: User,
    customer: Customer,
    service: Service | None,
    subject: str,
    description: str,
    severity: Any,
    channel: str,
    received_at: datetime,
    requester: User | None = None,
    sender_email: str = "",
    attachments: Sequence[File] = (),
    now: datetime | None = None,
    idempotency_key: str = "",
) -> Ticket:
    """Support staff log a ticket that came by phone or e-mail, with when it was received
    (the clocks start then, not when it was typed in; it cannot be in the future).

    ``requester`` is the customer person it is for (they get the notifications);
    without one, ``sender_email`` is where notifications go. A caller who is not a
    registered person of ``customer`` gets the SLA's unregistered-sender severity and
    flag (``_caller_rule``), as mail from an unknown address does.
    """
    now = now_or(now)
    require_support_staff(actor, "log tickets")
    key = clean_key(idempotency_key)
    earlier = earlier_filing(actor, key)
    if earlier is not None:  # the same form or API call again: the ticket it logged
        return earlier
    errors: dict[str, list[str]] = {}
    subject, description = clean_text(subject), clean_text(description)
    _common_checks(subject, description, errors)
    if channel not in (Channel.PHONE, Channel.EMAIL):
        errors["channel"] = ["Log a ticket received by phone or by e-mail."]
    _received_at(received_at, now, errors)
    sender_email = _email_address(sender_email, "sender_email", errors)
    contract = None
    if customer is None:
        errors["customer"] = ["Choose the customer."]
    else:
        if requester is not None and requester.customer_id != customer.pk:
            errors["requester"] = [f"{requester} is not a person of {customer}."]
        on = received_at if "received_at" not in errors else now
        contract = _contract_for(customer, service, on, errors, required=True)
    requester, level, unregistered = _caller_rule(
        customer, contract, requester, sender_email, parse_severity(severity), errors
    )
    _, upload_errors = check_uploads(attachments)
    if upload_errors:
        errors["attachments"] = upload_errors
    if errors:
        raise ValidationError(errors)
    fields = {
        "customer": customer,
        "contract": contract,
        "service": service,
        "subject": subject,
        "description": description,
        "severity": level,
        "channel": channel,
        "received_at": received_at,
        "created_by": actor,
        "requester": requester,
        "sender_email": sender_email,
        "unregistered_sender": unregistered,
    }
    return filed_once(
        actor,
        key,
        lambda: _create(fields=fields, attachments=attachments, actor=actor, now=now),
    )


def ticket_from_unregistered_sender(
    *,
    sender_email: str,
    subject: str,
    description: str,
    received_at: datetime | None = None,
    customer: Customer | None = None,
    service: Service | None = None,
    channel: str = Channel.EMAIL,
    attachments: Sequence[File] = (),
    now: datetime | None = None,
    origin: str = "",
) -> Ticket:
    """An issue from someone who is not a registered user (inbound e-mail).

    The SLA makes it the policy's unregistered-sender severity (4 in both catalog
    policies; 4 when no contract is known) and marks it unregistered. ``customer`` is
    the organisation it could be matched to, if any; its contract in force then gives
    the targets. Staff may reclassify it later.
    """
    now = now_or(now)
    received_at = received_at or now
    errors: dict[str, list[str]] = {}
    subject, description = clean_text(subject), clean_text(description)
    _common_checks(subject, description, errors)
    sender_email = _email_address(sender_email, "sender_email", errors)
    if not sender_email and "sender_email" not in errors:
        errors["sender_email"] = ["Keep the sender's address."]
    if channel not in Channel.values:
        errors["channel"] = ["Unknown channel."]
    _received_at(received_at, now, errors)
    contract = None
    if customer is not None and "received_at" not in errors:
        day = _local_date(received_at, customer)
        contract = active_contract(customer, service, on=day) or active_contract(customer, on=day)
    _, upload_errors = check_uploads(attachments)
    if upload_errors:
        errors["attachments"] = upload_errors
    if errors:
        raise ValidationError(errors)
    severity = UNREGISTERED_DEFAULT_SEVERITY
    if contract is not None and contract.policy.unregistered_sender_severity:
        severity = contract.policy.unregistered_sender_severity
    return _create(
        fields={
            "customer": customer,
            "contract": contract,
            "service": service,
            "subject": subject,
            "description": description,
            "severity": severity,
            "channel": channel,
            "received_at": received_at,
            "sender_email": sender_email,
            "unregistered_sender": True,
        },
        attachments=attachments,
        actor=None,
        now=now,
        origin=origin,
    )
