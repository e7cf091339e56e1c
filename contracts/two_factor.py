"""The second-factor pages of staff with money authority (slaportal/twofactor.py says who):
set up an authenticator app, enter a code after the password, and see or renew the
recovery codes.

- Set-up shows a QR code (and the key to type) for a new TOTP device; the device counts
  once the person enters a code it made. They are then given 10 recovery codes, shown
  that once, each good for one sign-in.
- Codes are checked by django-otp, which also slows down repeated wrong codes.
- Each set-up and each renewal of the recovery codes is in the audit log.
"""

from __future__ import annotations

from functools import wraps

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record
from slaportal.twofactor import has_second_factor, needs_second_factor

RECOVERY_CODE_COUNT = 10
SETUP_DEVICE_NAME = "Authenticator app"
SETUP_SESSION_KEY = "_two_factor_setup_device"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="The 6 digits from your authenticator app, or one of your recovery codes.",
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).lower()


def money_staff_required(view):
    """The pages are for those who need a second factor (signed in; others get a 404)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not needs_second_factor(request.user):
            raise Http404("Two-factor sign-in is for account managers and administrators.")
        return view(request, *args, **kwargs)

    return wrapped


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _recovery_codes_issue(user) -> list[str]:
    """Replace the person's recovery codes with new ones; the codes, to show once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _pending_device(request: HttpRequest) -> TOTPDevice:
    """The unconfirmed device this session is setting up (a new one if there is none)."""
    device = TOTPDevice.objects.filter(
        user=request.user, confirmed=False, pk=request.session.get(SETUP_SESSION_KEY)
    ).first()
    if device is None:
        TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
        device = TOTPDevice.objects.create(
            user=request.user, name=SETUP_DEVICE_NAME, confirmed=False
        )
        request.session[SETUP_SESSION_KEY] = device.pk
    return device


@money_staff_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app. Someone who already has a second factor must have
    given it in this session first (the middleware sends them to the code page)."""
    if has_second_factor(request.user) and not request.user.is_verified():
        return redirect("two-factor-verify")
    device = _pending_device(request)
    form = CodeForm(request.POST if request.method == "POST" else None)
    form.fields["code"].help_text = "The 6 digits your authenticator app shows for SLA Portal."
    if form.is_bound and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=request.user, confirmed=True).delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = _recovery_codes_issue(request.user)
                audit_record(
                    actor=request.user,
                    action="two_factor_set_up",
                    obj=request.user,
                    label=request.user.email or request.user.username,
                )
            request.session.pop(SETUP_SESSION_KEY, None)
            otp_login(request, device)
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
        form.add_error(
            "code", "That code does not match. Check your app's clock, and try the newest code."
        )
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": qr.svg_inline(scale=4, dark="#111827", light="#ffffff"),
            "secret": _spaced(device.bin_key),
            "next": _next_url(request),
        },
    )


@money_staff_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The code page after the password."""
    if not has_second_factor(request.user):
        return redirect("two-factor-setup")
    if request.user.is_verified():
        return redirect(_next_url(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. "
                    "Make new ones on your two-factor page if you are running low.",
                )
            return redirect(_next_url(request))
        form.add_error(
            "code",
            "That code is not right, or too many wrong codes were tried: wait a moment "
            "and try the newest code from your app.",
        )
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


@money_staff_required
def two_factor_manage(request: HttpRequest) -> HttpResponse:
    """Whether the person has an app and how many recovery codes are left."""
    devices = list(devices_for_user(request.user, confirmed=True))
    codes_left = sum(d.token_set.count() for d in devices if isinstance(d, StaticDevice))
    return render(
        request,
        "registration/two_factor_manage.html",
        {
            "has_app": any(isinstance(d, TOTPDevice) for d in devices),
            "codes_left": codes_left,
            "required": needs_second_factor(request.user),
        },
    )


@money_staff_required
@require_POST
def two_factor_codes_renew(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working). Only from a verified session."""
    if not request.user.is_verified():
        return redirect("two-factor-verify")
    with transaction.atomic():
        codes = _recovery_codes_issue(request.user)
        audit_record(
            actor=request.user,
            action="two_factor_codes_renewed",
            obj=request.user,
            label=request.user.email or request.user.username,
        )
    return render(
        request,
        "registration/two_factor_codes.html",
        {"codes": codes, "next": "/", "first_time": False},
    )


def _spaced(key: bytes) -> str:
    from base64 import b32encode

    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
