"""Calendars as data: a zone, weekly opening intervals and holidays (see contracts.calendars
for the engine that computes with them)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from contracts.validators import validate_holiday_country, validate_time_zone


class Calendar(models.Model):
    """A zone, weekly opening intervals and holidays; 24x7 is a calendar too."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    holiday_country = models.CharField(
        max_length=3,
        blank=True,
        validators=[validate_holiday_country],
        help_text="ISO country code whose public holidays close the calendar (e.g. US).",
    )
    holiday_subdivision = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(holiday_subdivision="") | ~Q(holiday_country=""),
                name="calendar_subdivision_needs_country",
                violation_error_message="A holiday subdivision needs a holiday country.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.time_zone})"


class OpeningInterval(models.Model):
    """Open from ``start_minute`` to ``end_minute`` (minutes after local midnight, end
    1440 = 24:00) on ``weekday`` (0 = Monday)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(
        choices=[(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
    )
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["calendar", "weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__lte=6),
                name="interval_weekday_0_6",
                violation_error_message="Weekday must be 0 (Monday) to 6 (Sunday).",
            ),
            models.CheckConstraint(
                condition=Q(start_minute__lt=F("end_minute")),
                name="interval_end_after_start",
                violation_error_message="An opening interval must end after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(end_minute__lte=1440),
                name="interval_within_day",
                violation_error_message="An opening interval must end by 24:00.",
            ),
            models.UniqueConstraint(
                fields=["calendar", "weekday", "start_minute"],
                name="interval_unique_start",
                violation_error_message="Two opening intervals start at the same time on that day.",
            ),
        ]

    def __str__(self) -> str:
        day = self.get_weekday_display()
        return f"{day} {self.start_minute // 60:02d}:{self.start_minute % 60:02d}–{self.end_minute // 60:02d}:{self.end_minute % 60:02d}"


class CalendarHoliday(models.Model):
    """A custom closed date, on top of the country's public holidays."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="custom_holidays")
    date = models.DateField()
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"],
                name="holiday_unique_date",
                violation_error_message="That date is already a holiday of this calendar.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()
