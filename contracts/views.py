"""The customer admin's people pages. (Role homes, dashboards and the back-office home
are the shell's: portal.views.)"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from contracts import selectors, services
from contracts.forms import InvitationForm, PersonAddForm, PersonRoleForm, add_service_errors
from contracts.models import User
from slaportal.permissions import (
    customer_admin_required,
    get_customer_object_or_404,
)

# The service names the person's role ``customer_role`` and, for a clash, ``username``.
PERSON_ERROR_FIELDS = {"customer_role": "role", "username": "email"}


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
            person = services.customer_person_add(
                customer=request.user.customer,
                email=data["email"],
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc, PERSON_ERROR_FIELDS)
        else:
            if person is not None:
                _send_invitation(request, person)
            # The same words whether or not the address had an account elsewhere (the
            # service e-mails its owner instead): the page must not tell.
            messages.success(request, added_message(data["email"], request.user.customer))
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


def added_message(email: str, customer) -> str:
    return (
        f"We e-mailed {email} an invitation to {customer.name}'s portal, with a link to "
        "choose a password."
    )


def _name(person: User) -> str:
    return person.get_full_name() or person.email
