"""Business-time arithmetic over a zone, weekly opening hours and holidays.

Pure Python (no Django, no database), so it is fast and property-testable.

Semantics
---------
* Opening hours are local wall-clock times in the calendar's IANA zone; business
  time is real elapsed time between UTC instants.
* A wall time ``w`` on local date ``d`` takes effect at the first instant the local
  clock reads ``w`` or later:
  - spring-forward gap: a wall time that does not exist maps forward to the
    transition instant (the first instant after the gap). We deliberately do not
    use zoneinfo's bare ``fold=0`` result there, which shifts ``02:30`` by the gap
    length to ``03:30`` and so would open an ``02:30-04:00`` desk *after* one that
    opens at ``03:00``;
  - fall-back repeat: the first occurrence (``fold=0``). The repeated hour
    therefore belongs to whatever interval is open just before the transition
    (``00:00-24:00`` is 25 h that day, ``01:00-01:30`` is 30 min).
  This mapping is monotone, so each interval becomes one UTC span and no spans
  overlap.
* A holiday (a local date) closes that date's intervals entirely.
* ``"24:00"`` as an end means midnight at the end of that day. Intervals never
  wrap past midnight: an overnight shift is two intervals on two weekdays.

Cost
----
Building a calendar parses the week once into a table of microseconds after local
midnight per weekday. A date's UTC spans are then that table shifted by the date's
UTC offset: one zoneinfo look-up per local midnight, no per-interval conversion. A
date is shifted only when the offset at its midnight equals the offset two midnights
later; otherwise an offset change touches it (or a gap that began the evening before
runs into it) and each wall time is converted one by one, exactly as the rules above
say. Comparing midnights two days apart would miss two offset changes that cancel
within 48 hours; no zone of the tz database changes its offset twice within three
days (since 1970 the closest two changes are about a week apart).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from contracts.calendar_hours import (
    DAY_SECONDS,
    WEEKDAYS,
    CalendarError,
    TimeLike,
    WeeklyHours,
    clock_text,
    load_zone,
    parse_hours,
    validate_time_zone,
)

__all__ = [
    "BusinessCalendar",
    "CalendarError",
    "WEEKDAYS",
    "WeeklyHours",
    "parse_hours",
    "validate_time_zone",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_US = timedelta(microseconds=1)
_DAY_US = DAY_SECONDS * 1_000_000
_SECOND_US = 1_000_000
# A due date that finds no opening hours for this long is a misconfigured calendar
# (say, every date listed as a holiday), not a deadline.
_MAX_CLOSED_DAYS = 3660
_CACHE_DAYS = 50_000

# A local date's business time: (base, spans, total). Its UTC spans are ``base + start``
# to ``base + end`` µs since the epoch, so a date without an offset change shares its
# weekday's table instead of building its own.
Day = tuple[int, tuple[tuple[int, int], ...], int]
_CLOSED: Day = (0, (), 0)


def _to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact integer arithmetic)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    try:
        delta = moment - _EPOCH
    except TypeError:  # naive (or no offset): nothing to subtract from UTC
        raise ValueError(
            f"naive datetime {moment.isoformat()} given: pass an aware datetime"
        ) from None
    return (delta.days * DAY_SECONDS + delta.seconds) * _SECOND_US + delta.microseconds


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _offset_us(offset: timedelta) -> int:
    return (offset.days * DAY_SECONDS + offset.seconds) * _SECOND_US + offset.microseconds


class BusinessCalendar:
    """A zone, weekly opening hours and holidays; see the module docstring.

    ``holidays`` is anything supporting ``date in holidays``: a list or set of
    local dates, or a ``holidays.HolidayBase`` (which expands years lazily).
    Building one is cheap: the week becomes per-weekday tables once (see "Cost").
    Per-date UTC spans are computed once per instance and cached (plain dicts,
    cleared when they grow past ``_CACHE_DAYS`` dates), so repeated questions about
    the same dates cost dictionary lookups: keep one calendar per definition (as
    ``contracts.calendar_engines`` does) and do not mutate ``holidays`` afterwards.
    Sharing an instance across threads is safe: a race only computes a date twice.
    """

    def __init__(
        self,
        tz: str,
        hours: Mapping[str | int, Iterable[tuple[TimeLike, TimeLike]]],
        holidays: Container[date] | Iterable[date] | None = None,
    ) -> None:
        self.tz = tz
        self.zone = load_zone(tz)
        self.weekly: WeeklyHours = parse_hours(hours)
        self.holidays = _normalise_holidays(holidays)
        self._no_holidays = isinstance(self.holidays, frozenset) and not self.holidays
        # Per weekday: the spans in µs after local midnight, and their total.
        self._week = tuple(
            tuple((start * _SECOND_US, end * _SECOND_US) for start, end in day)
            for day in self.weekly
        )
        self._week_totals = tuple(sum(end - start for start, end in day) for day in self._week)
        self._days: dict[int, Day] = {}
        self._totals: dict[int, int] = {}  # local date ordinal -> its business µs
        self._offsets_us: dict[timedelta, int] = {}  # the zone's few UTC offsets, in µs

    @property
    def always_open(self) -> bool:
        """Open every minute (24x7 in any zone, no holidays): elapsed is plain subtraction."""
        full = all(day == ((0, 86400),) for day in self.weekly)
        return full and isinstance(self.holidays, frozenset) and not self.holidays

    @classmethod
    def always(cls) -> BusinessCalendar:
        """24x7 in UTC with no holidays: ``elapsed(a, b) == b - a``."""
        return cls(tz="UTC", hours={day: [("00:00", "24:00")] for day in WEEKDAYS})

    def __repr__(self) -> str:
        days = ", ".join(
            f"{WEEKDAYS[i]} " + " ".join(f"{clock_text(s)}-{clock_text(e)}" for s, e in spans)
            for i, spans in enumerate(self.weekly)
            if spans
        )
        return f"<BusinessCalendar {self.tz}: {days}>"

    # -- queries -------------------------------------------------------------------

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        """Business time inside ``[a, b)``. Raises ``ValueError`` if ``b < a``."""
        ua, ub = _to_us(a), _to_us(b)
        if ub < ua:
            raise ValueError(f"end {b.isoformat()} is before start {a.isoformat()}")
        # Local dates lie within a day of the UTC date whatever the offset, so scanning
        # one extra date at each end saves converting either instant to local time, and
        # the dates from the third to the third-last lie wholly inside [a, b): only
        # their totals matter, summed without looking at their spans.
        first, last = ua // _DAY_US + _EPOCH_ORDINAL - 1, ub // _DAY_US + _EPOCH_ORDINAL + 1
        if last - first < 6:
            return timedelta(microseconds=self._clipped(ua, ub, range(first, last + 1)))
        inside = range(first + 3, last - 2)
        try:
            total = sum(map(self._totals.__getitem__, inside))
        except KeyError:  # dates not computed yet: compute them all at once
            total = sum(day[2] for day in self._fill(first, last)[3:-3])
        total += self._clipped(ua, ub, range(first, first + 3))
        total += self._clipped(ua, ub, range(last - 2, last + 1))
        return timedelta(microseconds=total)

    def _clipped(self, ua: int, ub: int, ordinals: range) -> int:
        """Business µs of the given dates inside ``[ua, ub)``."""
        total = 0
        cached = self._days.get
        for ordinal in ordinals:
            base, spans, day_total = cached(ordinal) or self._day(ordinal)
            if not spans:
                continue
            if base + spans[0][0] >= ua and base + spans[-1][1] <= ub:
                total += day_total
                continue
            since, until = ua - base, ub - base
            for start, end in spans:
                lo = start if start > since else since
                hi = end if end < until else until
                if hi > lo:
                    total += hi - lo
        return total

    def due(self, start: datetime, duration: timedelta) -> datetime:
        """Earliest instant ``t`` (aware, UTC) with ``elapsed(start, t) >= duration``.

        A deadline that lands on closing time is that closing instant; a zero
        duration returns ``start`` itself, even outside opening hours.
        """
        if duration < timedelta(0):
            raise ValueError(f"negative duration {duration}")
        now = _to_us(start)
        need = duration // _US
        if need == 0:
            return _from_us(now)
        ordinal = now // _DAY_US + _EPOCH_ORDINAL - 1
        closed_days = 0
        while True:
            base, spans, _ = self._day(ordinal)
            closed_days = closed_days + 1 if not spans else 0
            if closed_days > _MAX_CLOSED_DAYS:
                raise ValueError(f"{self!r} has no opening hours for {_MAX_CLOSED_DAYS} days")
            since = now - base
            for span_start, span_end in spans:
                if span_end <= since:
                    continue
                lo = span_start if span_start > since else since
                if span_end - lo >= need:
                    return _from_us(base + lo + need)
                need -= span_end - lo
            ordinal += 1

    def business_days(self, n: float) -> timedelta:
        """``n`` times the regular full-day length of business time.

        The regular length is the most common total length among the open weekdays
        (ties go to the longer). Inside opening hours, ``due(start, business_days(n))``
        is then the same local time ``n`` business days later when every open day
        has the same hours; a DST change inside an open period shifts it by the
        change, because business time is real time.
        """
        if n < 0:
            raise ValueError(f"negative number of business days: {n}")
        lengths = [sum(end - start for start, end in day) for day in self.weekly if day]
        regular = max(set(lengths), key=lambda length: (lengths.count(length), length))
        return timedelta(seconds=regular) * n

    # -- per-date spans ------------------------------------------------------------

    def _day(self, ordinal: int) -> Day:
        cached = self._days.get(ordinal)
        return cached if cached is not None else self._fill(ordinal, ordinal)[0]

    def _fill(self, first: int, last: int) -> list[Day]:
        """The dates ``first`` to ``last`` (ordinals), computing and caching those missing."""
        days, totals = self._days, self._totals
        if len(days) >= _CACHE_DAYS:
            days.clear()
            totals.clear()
        # The UTC offset of every midnight from ``first`` to ``last + 2`` (see "Cost").
        # (A naive wall time asks zoneinfo for its first occurrence.)
        utcoffset, midnight = self.zone.utcoffset, datetime.fromordinal
        offsets = [utcoffset(midnight(o)) for o in range(first, last + 3)]
        holidays = None if self._no_holidays else self.holidays
        week, week_totals, in_us = self._week, self._week_totals, self._offsets_us
        entries: list[Day] = []
        for index, ordinal in enumerate(range(first, last + 1)):
            if (entry := days.get(ordinal)) is not None:
                entries.append(entry)
                continue
            weekday = (ordinal - 1) % 7  # ordinal 1 (1 January of year 1) was a Monday
            spans = week[weekday]
            if not spans or (holidays is not None and date.fromordinal(ordinal) in holidays):
                entry = _CLOSED
            elif (offset := offsets[index]) == offsets[index + 2]:
                # No offset change touches this date: the week's table, shifted.
                if (offset_us := in_us.get(offset)) is None:
                    offset_us = in_us[offset] = _offset_us(offset)
                shift = (ordinal - _EPOCH_ORDINAL) * _DAY_US - offset_us
                entry = (shift, spans, week_totals[weekday])
            else:
                exact = self._converted(ordinal)
                entry = (0, exact, sum(end - start for start, end in exact))
            days[ordinal] = entry
            totals[ordinal] = entry[2]
            entries.append(entry)
        return entries

    def _converted(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """The date's spans converted wall time by wall time: right on any date."""
        midnight = datetime.fromordinal(ordinal)
        pairs = (
            (self._wall_to_us(midnight, start), self._wall_to_us(midnight, end))
            for start, end in self.weekly[(ordinal - 1) % 7]
        )
        # An interval wholly inside a spring-forward gap is empty that day.
        return tuple((start, end) for start, end in pairs if end > start)

    def _wall_to_us(self, midnight: datetime, seconds: int) -> int:
        """The first instant the local clock reads ``midnight + seconds`` or later."""
        wall = midnight + timedelta(seconds=seconds)  # naive, so 24:00 rolls to the next date
        moment = wall.replace(tzinfo=self.zone).astimezone(UTC)  # fold=0: first occurrence
        if moment.astimezone(self.zone).replace(tzinfo=None) == wall:
            return (moment - _EPOCH) // _US
        # ``wall`` is in a gap. fold=1 lands before the gap and fold=0 after it; zoneinfo
        # has no public transition table, so bisect (whole seconds) for the transition.
        lo = (wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC) - _EPOCH) // _US
        hi = (moment - _EPOCH) // _US
        while hi - lo > _SECOND_US:
            mid = lo + (hi - lo) // _SECOND_US // 2 * _SECOND_US
            if _from_us(mid).astimezone(self.zone).replace(tzinfo=None) >= wall:
                hi = mid
            else:
                lo = mid
        return hi


def _normalise_holidays(holidays: object) -> Container[date]:
    if holidays is None:
        return frozenset()
    if isinstance(holidays, list | tuple | set | frozenset):
        if not set(map(type, holidays)) <= {date}:  # subclasses: look closer
            for day in holidays:
                if isinstance(day, datetime) or not isinstance(day, date):
                    raise CalendarError(f"holiday {day!r} is not a date")
        return frozenset(holidays)
    if not hasattr(holidays, "__contains__"):
        raise CalendarError("holidays must be a collection of dates or a holidays.HolidayBase")
    return holidays  # e.g. holidays.HolidayBase: years expand lazily on lookup
