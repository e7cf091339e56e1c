"""Anyone signed in: their own profile (``/accounts/profile/``), the time zone every page
shows their times in (``slaportal.pages.render_zoned``) and what they are e-mailed
about. The desk's alerts are offered to support staff only: nobody else gets them."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from contracts.forms import add_service_errors
from contracts.services.profiles import gets_desk_alerts, profile_update
from slaportal.pages import render_zoned

# Offered first: where the provider's staff and customers mostly are.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
# The desk's alerts go to support agents and administrators (the desk's people).


@cache
def zone_choices() -> list:
    """The common zones, then every IANA name zoneinfo knows (a select can be searched by
    typing the name's start)."""
    everything = sorted(z for z in available_timezones() if "/" in z and z not in COMMON_ZONES)
    return [("Common", [(z, z) for z in COMMON_ZONES]), ("All zones", [(z, z) for z in everything])]


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=zone_choices,
        help_text="Every page shows times in this zone.",
    )
    email_ticket_updates = forms.BooleanField(
        label="Ticket updates",
        required=False,
        help_text="Replies and status changes on tickets I filed or watch.",
    )
    email_desk_alerts = forms.BooleanField(
        label="Desk alerts",
        required=False,
        help_text="New tickets, and customer replies on my tickets or on any unassigned one.",
    )

    def __init__(self, *args, desk_alerts: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not desk_alerts:
            del self.fields["email_desk_alerts"]


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    person = request.user
    desk_alerts = gets_desk_alerts(person)
    initial = {
        "time_zone": person.time_zone,
        "email_ticket_updates": person.email_ticket_updates,
        "email_desk_alerts": person.email_desk_alerts,
    }
    form = ProfileForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        desk_alerts=desk_alerts,
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            profile_update(
                person=person,
                time_zone=data["time_zone"],
                email_ticket_updates=data["email_ticket_updates"],
                email_desk_alerts=data["email_desk_alerts"] if desk_alerts else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved. Times are now shown in {person.time_zone}.")
            return redirect("profile")
    return render_zoned(
        request,
        "registration/profile.html",
        {"form": form, "desk_alerts": desk_alerts, "now": timezone.now()},
    )
