"""Customers, people, services, calendars, SLA policies, contracts and invoices.

Every invariant that fits in one row is a database constraint. Invariants that
span rows (opening intervals that must not overlap, credit bands that must tile
0–100 %) are checked by ``contracts.terms`` / ``contracts.calendars`` in the
services, the admin and the API alike.
"""

from contracts.models.agreements import Contract, ContractLine, Invoice, InvoiceLine
from contracts.models.organisations import Customer, Service, User
from contracts.models.policies import (
    CreditBand,
    DowntimeCategory,
    InvoiceKind,
    PolicyExclusion,
    SeverityTerm,
    SLAPolicy,
    TargetUnit,
)
from contracts.models.schedules import Calendar, CalendarHoliday, OpeningInterval

__all__ = [
    "Calendar",
    "CalendarHoliday",
    "Contract",
    "ContractLine",
    "CreditBand",
    "Customer",
    "DowntimeCategory",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "OpeningInterval",
    "PolicyExclusion",
    "SLAPolicy",
    "Service",
    "SeverityTerm",
    "TargetUnit",
    "User",
]
