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
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BusinessCalendar",
    "CalendarError",
    "WEEKDAYS",
    "WeeklyHours",
    "parse_hours",
    "validate_time_zone",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SECONDS = 86_400

# Seven tuples (Monday first) of sorted, disjoint (start, end) seconds after local midnight.
WeeklyHours = tuple[tuple[tuple[int, int], ...], ...]
TimeLike = str | time

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_US = timedelta(microseconds=1)
_DAY_US = DAY_SECONDS * 1_000_000
_SECOND_US = 1_000_000
# A due date that finds no opening hours for this long is a misconfigured calendar
# (say, every date listed as a holiday), not a deadline.
_MAX_CLOSED_DAYS = 3660
_CACHE_DAYS = 50_000


class CalendarError(ValueError):
    """A calendar definition that cannot be used; the message names the problem."""


def validate_time_zone(name: str) -> None:
    """Raise ``CalendarError`` unless ``name`` is an IANA zone that zoneinfo can load."""
    _load_zone(name)


def _load_zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise CalendarError("time zone is missing: give an IANA name such as 'America/Chicago'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError(f"unknown time zone {name!r}") from None


def _parse_time(value: object, day: str) -> int:
    """Seconds after local midnight; "24:00" gives 86400."""
    if isinstance(value, time):
        if value.tzinfo is not None or value.microsecond:
            raise CalendarError(f"malformed time {value!r} on {day}: use a naive whole-second time")
        return value.hour * 3600 + value.minute * 60 + value.second
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) not in (2, 3) or not all(len(p) == 2 and p.isdigit() for p in parts):
        raise CalendarError(f"malformed time {value!r} on {day}: expected HH:MM or HH:MM:SS")
    h, m, s = (int(p) for p in (*parts, "00")[:3])
    if (h, m, s) == (24, 0, 0):
        return DAY_SECONDS
    if h > 23 or m > 59 or s > 59:
        raise CalendarError(f"malformed time {value!r} on {day}: out of range")
    return h * 3600 + m * 60 + s


def _fmt(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _weekday_index(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key  # the database stores weekdays as 0 (Monday) .. 6
    if isinstance(key, str) and key.strip().lower() in WEEKDAYS:
        return WEEKDAYS.index(key.strip().lower())
    raise CalendarError(f"unknown weekday {key!r}: use one of {', '.join(WEEKDAYS)}")


def parse_hours(hours: Mapping[str | int, Iterable[tuple[TimeLike, TimeLike]]]) -> WeeklyHours:
    """Validate and normalise weekly opening hours.

    ``hours`` maps "mon".."sun" (or 0..6) to (start, end) pairs of "HH:MM",
    "HH:MM:SS" or ``datetime.time``; missing days are closed. Touching intervals
    are merged. Raises ``CalendarError`` naming the problem.
    """
    if not isinstance(hours, Mapping):
        raise CalendarError("opening hours must be a mapping of weekday to intervals")
    week: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    for key, intervals in hours.items():
        index = _weekday_index(key)
        day = WEEKDAYS[index]
        if week[index]:
            raise CalendarError(f"weekday {day} is given twice")
        parsed = []
        for pair in intervals or ():
            if isinstance(pair, str) or len(pair) != 2:
                raise CalendarError(f"interval {pair!r} on {day} must be a (start, end) pair")
            start, end = _parse_time(pair[0], day), _parse_time(pair[1], day)
            if end <= start:
                raise CalendarError(
                    f"reversed interval {_fmt(start)}-{_fmt(end)} on {day}: end must be after "
                    "start (split an overnight shift over two days)"
                )
            parsed.append((start, end))
        parsed.sort()
        for (s1, e1), (s2, e2) in zip(parsed, parsed[1:], strict=False):
            if s2 < e1:
                raise CalendarError(
                    f"overlapping intervals on {day}: "
                    f"{_fmt(s1)}-{_fmt(e1)} and {_fmt(s2)}-{_fmt(e2)}"
                )
        for start, end in parsed:
            if week[index] and week[index][-1][1] == start:
                week[index][-1] = (week[index][-1][0], end)
            else:
                week[index].append((start, end))
    if not any(week):
        raise CalendarError("calendar has no opening hours")
    return tuple(tuple(day) for day in week)


def _to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact integer arithmetic)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} given: pass an aware datetime")
    return (moment - _EPOCH) // _US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class BusinessCalendar:
    """A zone, weekly opening hours and holidays; see the module docstring.

    ``holidays`` is anything supporting ``date in holidays``: a list or set of
    local dates, or a ``holidays.HolidayBase`` (which expands years lazily).
    Per-date UTC spans are computed once per instance and cached (a plain dict,
    cleared when it grows past ``_CACHE_DAYS`` dates), so repeated questions about
    the same dates cost dictionary lookups: build one calendar per definition and
    reuse it, and do not mutate ``holidays`` afterwards. Sharing an instance across
    threads is safe: a race only computes a date twice.
    """

    def __init__(
        self,
        tz: str,
        hours: Mapping[str | int, Iterable[tuple[TimeLike, TimeLike]]],
        holidays: Container[date] | Iterable[date] | None = None,
    ) -> None:
        self.tz = tz
        self.zone = _load_zone(tz)
        self.weekly: WeeklyHours = parse_hours(hours)
        self.holidays = _normalise_holidays(holidays)
        # local date ordinal -> (UTC spans in µs, their total)
        self._days: dict[int, tuple[tuple[tuple[int, int], ...], int]] = {}

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
            f"{WEEKDAYS[i]} " + " ".join(f"{_fmt(s)}-{_fmt(e)}" for s, e in spans)
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
        total = 0
        # Local dates lie within a day of the UTC date whatever the offset, so scanning
        # one extra date at each end saves converting either instant to local time.
        first, last = ua // _DAY_US + _EPOCH_ORDINAL - 1, ub // _DAY_US + _EPOCH_ORDINAL + 1
        for ordinal in range(first, last + 1):
            spans, day_total = self._day(ordinal)
            if not spans:
                continue
            if spans[0][0] >= ua and spans[-1][1] <= ub:
                total += day_total
                continue
            for start, end in spans:
                lo = start if start > ua else ua
                hi = end if end < ub else ub
                if hi > lo:
                    total += hi - lo
        return timedelta(microseconds=total)

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
            spans, _ = self._day(ordinal)
            closed_days = closed_days + 1 if not spans else 0
            if closed_days > _MAX_CLOSED_DAYS:
                raise ValueError(f"{self!r} has no opening hours for {_MAX_CLOSED_DAYS} days")
            for span_start, span_end in spans:
                if span_end <= now:
                    continue
                lo = span_start if span_start > now else now
                if span_end - lo >= need:
                    return _from_us(lo + need)
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

    def _day(self, ordinal: int) -> tuple[tuple[tuple[int, int], ...], int]:
        cached = self._days.get(ordinal)
        if cached is not None:
            return cached
        if len(self._days) >= _CACHE_DAYS:
            self._days.clear()
        day = date.fromordinal(ordinal)
        spans: tuple[tuple[int, int], ...] = ()
        if self.weekly[day.weekday()] and day not in self.holidays:
            midnight = datetime.combine(day, time())
            pairs = (
                (self._wall_to_us(midnight, start), self._wall_to_us(midnight, end))
                for start, end in self.weekly[day.weekday()]
            )
            # An interval wholly inside a spring-forward gap is empty that day.
            spans = tuple((start, end) for start, end in pairs if end > start)
        entry = (spans, sum(end - start for start, end in spans))
        self._days[ordinal] = entry
        return entry

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
        for day in holidays:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise CalendarError(f"holiday {day!r} is not a date")
        return frozenset(holidays)
    if not hasattr(holidays, "__contains__"):
        raise CalendarError("holidays must be a collection of dates or a holidays.HolidayBase")
    return holidays  # e.g. holidays.HolidayBase: years expand lazily on lookup
