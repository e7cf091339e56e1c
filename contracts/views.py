"""Sending each role to its home page, the back office home and the customer admin's
people pages. The customer and account manager home pages are dashboards (dashboards.views)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from contracts import roles, selectors, services
from contracts.forms import InvitationForm, PersonAddForm, PersonRoleForm, add_service_errors
from contracts.models import User
from contracts.permissions import (
    customer_admin_required,
    get_customer_object_or_404,
    role_required,
)

ROLE_HOMES = {
    "customer_user": "portal-home",
    "customer_admin": "portal-home",
    roles.AGENT: "desk-home",
    roles.OPERATIONS: "ops-home",
    roles.ACCOUNT_MANAGER: "am-home",
    roles.ADMIN: "backoffice-home",
}

# The service names the person's role ``customer_role`` and, for a clash, ``username``.
PERSON_ERROR_FIELDS = {"customer_role": "role", "username": "email"}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    target = ROLE_HOMES.get(roles.primary_role(request.user) or "")
    if target is None:
        # Signed in but given no role yet: sending them to the login page would loop.
        raise PermissionDenied("Your account has no role yet. Ask your administrator.")
    return redirect(target)


# ---------------------------------------------------------------- customer portal


@customer_admin_required
def people(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    return render(
        request,
        "portal/people.html",
        {"customer": customer, "people": selectors.customer_people(customer)},
    )


@customer_admin_required
def person_add(request: HttpRequest) -> HttpResponse:
    form = PersonAddForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.customer_user_create(
                customer=request.user.customer,
                username=data["email"],
                email=data["email"],
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc, PERSON_ERROR_FIELDS)
        else:
            _send_invitation(request, person)
            messages.success(
                request,
                f"{person.get_full_name()} was added. We e-mailed {person.email} a link "
                "to choose a password.",
            )
            return redirect("portal-people")
    return render(request, "portal/person_add.html", {"form": form})


@customer_admin_required
def person_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_customer_object_or_404(request, User.objects.all(), pk=user_id)
    return _render_person(request, person, PersonRoleForm(initial={"role": person.customer_role}))


@customer_admin_required
@require_POST
def person_role(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_customer_object_or_404(request, User.objects.all(), pk=user_id)
    form = PersonRoleForm(request.POST)
    if form.is_valid():
        try:
            services.customer_user_update(
                actor=request.user, user=person, role=form.cleaned_data["role"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc, PERSON_ERROR_FIELDS)
            person.refresh_from_db()  # the service may have changed it in memory only
        else:
            messages.success(
                request, f"{_name(person)} is now a {person.get_customer_role_display()}."
            )
            return redirect("portal-person", user_id=person.pk)
    return _render_person(request, person, form)


@customer_admin_required
@require_POST
def person_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _set_active(request, user_id, active=False)


@customer_admin_required
@require_POST
def person_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _set_active(request, user_id, active=True)


@customer_admin_required
@require_POST
def person_invite(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_customer_object_or_404(request, User.objects.all(), pk=user_id)
    if not person.is_active:
        messages.error(request, f"{_name(person)} is deactivated; reactivate them first.")
    else:
        _send_invitation(request, person)
        messages.success(request, f"We e-mailed {person.email} a link to choose a password.")
    return redirect("portal-person", user_id=person.pk)


def _set_active(request: HttpRequest, user_id: int, *, active: bool) -> HttpResponse:
    person = get_customer_object_or_404(request, User.objects.all(), pk=user_id)
    try:
        services.customer_user_update(actor=request.user, user=person, is_active=active)
    except ValidationError as exc:
        person.refresh_from_db()
        form = PersonRoleForm(initial={"role": person.customer_role})
        return _render_person(request, person, form, status_errors=exc.messages)
    state = (
        "reactivated and can sign in again" if active else "deactivated and can no longer sign in"
    )
    messages.success(request, f"{_name(person)} was {state}.")
    return redirect("portal-person", user_id=person.pk)


def _render_person(
    request: HttpRequest,
    person: User,
    role_form: PersonRoleForm,
    status_errors: list[str] | None = None,
) -> HttpResponse:
    return render(
        request,
        "portal/person.html",
        {
            "person": person,
            "role_form": role_form,
            "status_errors": status_errors or [],
            "is_self": person.pk == request.user.pk,
        },
    )


def _send_invitation(request: HttpRequest, person: User) -> None:
    form = InvitationForm({"email": person.email})
    if form.is_valid():
        form.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name="registration/invitation_subject.txt",
            email_template_name="registration/invitation_email.txt",
            extra_email_context={"inviter": request.user, "customer": person.customer},
        )


def _name(person: User) -> str:
    return person.get_full_name() or person.email


# ---------------------------------------------------------------- staff


BACKOFFICE_SECTIONS = [
    ("customer", "Customers", "Organisations, billing contacts and account managers."),
    ("service", "Services", "What the SLA covers, and which services are critical."),
    ("calendar", "Calendars", "Opening hours, time zones and holidays."),
    ("slapolicy", "SLA policies", "Versioned terms: targets, exclusions, credits, support."),
    ("contract", "Contracts", "Which customer buys which services under which policy."),
    ("invoice", "Invoices", "Issued invoices and payments (credit eligibility)."),
    ("user", "People", "Staff accounts and customer people."),
]


@role_required(roles.ADMIN)
def backoffice_home(request: HttpRequest) -> HttpResponse:
    counts = selectors.backoffice_counts()
    sections = [
        {
            "label": label,
            "description": description,
            "count": counts[model],
            "url": _admin_url(f"admin:contracts_{model}_changelist"),
        }
        for model, label, description in BACKOFFICE_SECTIONS
    ]
    return render(request, "backoffice/home.html", {"sections": sections})


def _admin_url(name: str) -> str | None:
    # A model not (yet) registered with the admin site has no page to link to.
    try:
        return reverse(name)
    except NoReverseMatch:
        return None
