"""SLA clocks of a ticket: first response and resolution. Pure Python, no ORM.

A clock runs from the moment the ticket was received, on the support calendar (or
around the clock where the policy says so for the ticket's severity), and stops at
the first public staff reply (response) or at resolution. Pauses (waiting on the
customer; the time a resolved ticket spent resolved before it was reopened) do not
count: each one pushes the deadline back by the business time it covered.

Reclassification needs no special case: the clocks are always computed from the
receipt under the ticket's current severity, so a new severity re-measures the whole
history under its own targets ("targets are then measured from creation under the
new severity").

States, for display and for the breach flags the services store:
``no_target`` (the policy says ``none``), ``met`` (stopped in time), ``breached``
(stopped late, or still running past the deadline), ``paused`` (waiting on the
customer with time left), ``at_risk`` (75 % of the target used), ``on_track``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts.calendars import BusinessCalendar

__all__ = [
    "AT_RISK",
    "AT_RISK_SHARE",
    "BREACHED",
    "Clock",
    "MET",
    "NO_TARGET",
    "ON_TRACK",
    "PAUSED",
    "Pause",
    "SeverityTargets",
    "SupportTerms",
    "Target",
    "TicketClocks",
    "clock_state",
    "compute_clock",
    "compute_ticket_clocks",
    "deadline",
    "running_time",
]

ON_TRACK = "on_track"
AT_RISK = "at_risk"
BREACHED = "breached"
MET = "met"
PAUSED = "paused"
NO_TARGET = "no_target"
STATE_LABELS = {
    ON_TRACK: "On track",
    AT_RISK: "At risk",
    BREACHED: "Breached",
    MET: "Met",
    PAUSED: "Paused",
    NO_TARGET: "No target",
}

# A clock is "at risk" once this share of its target has been used: (numerator, denominator).
AT_RISK_SHARE = (3, 4)

# (started, ended); ended is None while the pause goes on.
Pause = tuple[datetime, datetime | None]

_AROUND_THE_CLOCK = BusinessCalendar.always()


@dataclass(frozen=True)
class Target:
    """A response or resolution target as the SLA states it: ``value`` minutes, ``value``
    business days, or ``none``."""

    value: int | None
    unit: str  # "minutes" | "business_days" | "none"

    def duration(self, calendar: BusinessCalendar) -> timedelta | None:
        """Business time the target allows on ``calendar``; None for no target.

        "N business days" is N times the calendar's regular full-day business length
        (17 h on a 03:00-20:00 desk), so inside opening hours it lands on the same
        local time N business days later.
        """
        if self.unit == "none" or self.value is None:
            return None
        if self.unit == "minutes":
            return timedelta(minutes=self.value)
        if self.unit == "business_days":
            return calendar.business_days(self.value)
        raise ValueError(f"unknown target unit {self.unit!r}")

    @property
    def text(self) -> str:
        """In words, as the portal, the desk and the statements show it: "4 hours",
        "90 minutes", "2 business days", "No target"."""
        value = self.value
        if self.unit == "none" or value is None:
            return "No target"
        if self.unit == "business_days":
            return f"{value} business day{'s' if value != 1 else ''}"
        if value % 60 == 0:
            hours = value // 60
            return f"{hours} hour{'s' if hours != 1 else ''}"
        return f"{value} minutes"


NO_TARGET_TERMS = Target(None, "none")


@dataclass(frozen=True)
class SeverityTargets:
    severity: int
    around_the_clock: bool = False
    response: Target = NO_TARGET_TERMS
    resolution: Target = NO_TARGET_TERMS
    name: str = ""
    description: str = ""


@dataclass(frozen=True)
class SupportTerms:
    """The support terms in force for one contract.

    ``calendar`` is the support calendar; None means support runs around the clock
    (an order-form contract that gave targets but no hours). A severity missing from
    ``severities`` has no targets.
    """

    calendar: BusinessCalendar | None
    severities: Mapping[int, SeverityTargets] = field(default_factory=dict)

    def calendar_for(self, severity: int) -> BusinessCalendar:
        terms = self.severities.get(severity)
        if self.calendar is None or (terms is not None and terms.around_the_clock):
            return _AROUND_THE_CLOCK
        return self.calendar

    def targets(self, severity: int) -> tuple[timedelta | None, timedelta | None]:
        """(response, resolution) business time allowed for ``severity``."""
        terms = self.severities.get(severity)
        if terms is None:
            return None, None
        calendar = self.calendar_for(severity)
        return terms.response.duration(calendar), terms.resolution.duration(calendar)


NO_TERMS = SupportTerms(calendar=None)


@dataclass(frozen=True)
class Clock:
    target: timedelta | None
    due_at: datetime | None  # None: no target, or paused before the deadline was reached
    at_risk_at: datetime | None  # when AT_RISK_SHARE of the target is used
    stopped_at: datetime | None
    paused: bool
    elapsed: timedelta  # business time used (pauses excluded) up to the stop or now
    state: str

    @property
    def remaining(self) -> timedelta | None:
        if self.target is None:
            return None
        return max(self.target - self.elapsed, timedelta(0))

    @property
    def breached(self) -> bool:
        return self.state == BREACHED

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class TicketClocks:
    response: Clock
    resolution: Clock


def _merged(pauses: Iterable[Pause], start: datetime) -> list[Pause]:
    """Pauses clipped to begin no earlier than ``start``, sorted and merged; an open
    pause (end None) swallows everything after it."""
    clipped = []
    for p_start, p_end in pauses:
        p_start = max(p_start, start)
        if p_end is not None and p_end <= p_start:
            continue
        clipped.append((p_start, p_end))
    clipped.sort(key=lambda p: p[0])
    merged: list[Pause] = []
    for p_start, p_end in clipped:
        if merged and (merged[-1][1] is None or p_start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            if last_end is None or p_end is None:
                merged[-1] = (last_start, None)
            else:
                merged[-1] = (last_start, max(last_end, p_end))
            continue
        merged.append((p_start, p_end))
    return merged


def deadline(
    calendar: BusinessCalendar,
    start: datetime,
    duration: timedelta,
    pauses: Sequence[Pause] = (),
) -> datetime | None:
    """The earliest instant by which ``duration`` of business time outside the pauses
    has passed since ``start``; None when an ongoing pause begins before that."""
    cursor, left = start, duration
    for p_start, p_end in _merged(pauses, start):
        if p_start > cursor:
            candidate = calendar.due(cursor, left)
            if candidate <= p_start:
                return candidate
            left -= calendar.elapsed(cursor, p_start)
        if p_end is None:
            return None
        cursor = max(cursor, p_end)
    return calendar.due(cursor, left)


def running_time(
    calendar: BusinessCalendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> timedelta:
    """Business time inside ``[start, end)`` outside the pauses (an open pause runs to ``end``)."""
    if end <= start:
        return timedelta(0)
    total = calendar.elapsed(start, end)
    for p_start, p_end in _merged(pauses, start):
        p_end = end if p_end is None else min(p_end, end)
        if p_start < p_end:
            total -= calendar.elapsed(p_start, p_end)
    return total


def clock_state(
    *,
    has_target: bool,
    due_at: datetime | None,
    at_risk_at: datetime | None,
    stopped_at: datetime | None,
    paused: bool,
    now: datetime,
) -> str:
    """The display state from a clock's stored facts (the same rule for a fresh
    computation and for a list page reading stored columns)."""
    if not has_target:
        return NO_TARGET
    moment = stopped_at if stopped_at is not None else now
    if due_at is not None and moment > due_at:
        return BREACHED
    if stopped_at is not None:
        return MET
    if paused:
        return PAUSED
    if at_risk_at is not None and now >= at_risk_at:
        return AT_RISK
    return ON_TRACK


def compute_clock(
    *,
    calendar: BusinessCalendar,
    start: datetime,
    target: timedelta | None,
    pauses: Sequence[Pause] = (),
    stopped_at: datetime | None = None,
    now: datetime,
) -> Clock:
    """One clock from ``start`` (receipt) with the given pauses, stopped or still running.

    Pauses that begin at or after the stop do not move the deadline of a stopped clock
    (a reply at 10:00 then waiting on the customer from 11:00 leaves the response
    deadline where it was), and a pause still open at the stop ends there.
    """
    if stopped_at is not None:
        pauses = [
            (p_start, stopped_at if p_end is None or p_end > stopped_at else p_end)
            for p_start, p_end in pauses
            if p_start < stopped_at
        ]
    paused = stopped_at is None and any(p_end is None for _, p_end in pauses)
    moment = stopped_at if stopped_at is not None else now
    elapsed = running_time(calendar, start, max(moment, start), pauses)
    if target is None:
        return Clock(None, None, None, stopped_at, paused, elapsed, NO_TARGET)
    numerator, denominator = AT_RISK_SHARE
    due_at = deadline(calendar, start, target, pauses)
    at_risk_at = deadline(calendar, start, target * numerator // denominator, pauses)
    state = clock_state(
        has_target=True,
        due_at=due_at,
        at_risk_at=at_risk_at,
        stopped_at=stopped_at,
        paused=paused,
        now=now,
    )
    return Clock(target, due_at, at_risk_at, stopped_at, paused, elapsed, state)


def compute_ticket_clocks(
    *,
    terms: SupportTerms,
    severity: int,
    received_at: datetime,
    pauses: Sequence[Pause] = (),
    responded_at: datetime | None = None,
    resolved_at: datetime | None = None,
    now: datetime,
) -> TicketClocks:
    """Both clocks of a ticket under ``severity``.

    ``resolved_at`` is given only while the ticket is resolved or closed (a reopened
    ticket's earlier resolution is one of its pauses). Resolution also stops the
    response clock: a ticket the customer resolved before anyone answered needs no
    answer any more.
    """
    calendar = terms.calendar_for(severity)
    response_target, resolution_target = terms.targets(severity)
    stops = [t for t in (responded_at, resolved_at) if t is not None]
    response = compute_clock(
        calendar=calendar,
        start=received_at,
        target=response_target,
        pauses=pauses,
        stopped_at=min(stops, default=None),
        now=now,
    )
    resolution = compute_clock(
        calendar=calendar,
        start=received_at,
        target=resolution_target,
        pauses=pauses,
        stopped_at=resolved_at,
        now=now,
    )
    return TicketClocks(response=response, resolution=resolution)
