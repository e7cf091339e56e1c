"""Operations back office: outages (list, record, timeline, close, edit) and the list of
contracts (each contract's availability page: ``outages.availability_page``). Thin:
parse, call a service or selector, render.

Recording or editing an outage that reopens an issued statement (``outages.reopening``)
saves nothing until the person confirms the list of statements the page shows them.

Times are shown in the viewer's own zone (``User.time_zone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts.forms import add_service_errors
from contracts.models import Contract, ContractLine
from outages import services
from outages.alert_forms import ConfirmForm, DismissForm
from outages.availability_page import availability_roles
from outages.forms import CloseForm, OutageFilterForm, OutageForm, UpdateForm
from outages.models import Outage, OutageUpdate
from outages.reopening import Reopened, reopen_preview, reopen_token, touched
from outages.selectors import outages_for_staff, unconfirmed_outages
from slaportal import formatting, roles
from slaportal.pages import paginate, render_zoned, viewer_zone
from slaportal.permissions import role_required


def _minutes(seconds: int) -> str:
    return formatting.minutes_text(Fraction(seconds, 60))


# ---------------------------------------------------------------- outages


@dataclass(frozen=True)
class OutageRow:
    outage: Outage
    duration: str
    scope: str


def _row(outage: Outage, now: datetime) -> OutageRow:
    names = [c.name for c in outage.customers.all()]
    scope = ", ".join(names) if outage.scope == Outage.Scope.CUSTOMERS else "All customers"
    end = outage.ended_at or max(now, outage.started_at)
    # Wall-clock time, so days are days.
    return OutageRow(
        outage, formatting.duration_text(end - outage.started_at, days=True), scope or "—"
    )


@role_required(roles.OPERATIONS)
def outage_list(request: HttpRequest) -> HttpResponse:
    filters = OutageFilterForm(request.GET, zone=viewer_zone(request))
    page, query = paginate(
        request, filters.apply(outages_for_staff().order_by("-started_at", "-pk"))
    )
    now = timezone.now()
    return render_zoned(
        request,
        "ops/outage_list.html",
        {
            "filters": filters,
            "page": page,
            "rows": [_row(outage, now) for outage in page],
            "query": query,
            "unconfirmed": [_row(outage, now) for outage in unconfirmed_outages()[:50]],
        },
    )


@role_required(roles.OPERATIONS)
def outage_new(request: HttpRequest) -> HttpResponse:
    form = OutageForm(request.POST or None, zone=viewer_zone(request))
    reopened: list[Reopened] = []
    if form.is_bound and form.is_valid():
        reopened = _reopened(form, None)
        if _confirmed(request, reopened):
            try:
                outage = services.outage_record(**form.service_arguments(), actor=request.user)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Outage “{outage.title}” recorded.{_told(reopened)}")
                return redirect("ops-outage", outage_id=outage.pk)
    return _render_form(request, form, None, reopened)


# ---------------------------------------------------------------- the reopen warning

# The confirmation a "Save and reopen these statements" button carries: the list of
# contract-months it was shown (``reopen_token``), so it confirms that list and no other.
REOPEN_CONFIRMED = "reopen_confirmed"


def _reopened(form: OutageForm, outage: Outage | None) -> list[Reopened]:
    """The issued statements saving the form would reopen: the contract-months the
    services open re-issue requests for (the new interval and scope, and on an edit the
    outage's current ones too), those with an issued statement."""
    now = timezone.now()
    data = form.service_arguments()
    started, ended = data["started_at"], data["ended_at"]
    after = (started, ended or max(now, started))
    scope = [c.pk for c in data["customers"]] if data["scope"] == Outage.Scope.CUSTOMERS else None
    before, before_scope = services.outage_snapshot(outage, now) if outage else (None, None)
    intervals, customers = touched(after, scope, before, before_scope)
    found = reopen_preview(data["service"].pk, intervals, customers, now)
    if outage is not None and outage.service_id != data["service"].pk:
        # Moved to another service: the old service's months change too.
        found += reopen_preview(outage.service_id, [before], before_scope, now)
    return list({reopened.key: reopened for reopened in found}.values())


def _confirmed(request: HttpRequest, reopened: list[Reopened]) -> bool:
    """Nothing stated is reopened, or the person confirmed exactly this list."""
    return not reopened or request.POST.get(REOPEN_CONFIRMED) == reopen_token(reopened)


def _told(reopened: list[Reopened]) -> str:
    if not reopened:
        return ""
    count = len(reopened)
    statements = "statement waits" if count == 1 else "statements wait"
    return f" {count} issued {statements} for the account managers to re-issue or dismiss."


def _render_form(
    request: HttpRequest, form: OutageForm, outage: Outage | None, reopened: list[Reopened]
) -> HttpResponse:
    reopen = None
    if reopened:
        token = reopen_token(reopened)
        given = request.POST.get(REOPEN_CONFIRMED, "")
        reopen = {
            "rows": reopened,
            "field": REOPEN_CONFIRMED,
            "token": token,
            # Confirmed for another list (the form changed, or a statement was issued
            # meanwhile): say why the page asks again.
            "changed": bool(given) and given != token,
        }
    return render_zoned(
        request, "ops/outage_form.html", {"form": form, "outage": outage, "reopen": reopen}
    )


def outage_for_staff(outage_id: int) -> Outage:
    updates = OutageUpdate.objects.select_related("author")
    return get_object_or_404(
        outages_for_staff().prefetch_related(Prefetch("updates", queryset=updates)), pk=outage_id
    )


def render_detail(
    request: HttpRequest,
    outage: Outage,
    update_form: UpdateForm | None = None,
    close_form: CloseForm | None = None,
    confirm_form: ConfirmForm | None = None,
    dismiss_form: DismissForm | None = None,
) -> HttpResponse:
    """The outage's page; a refused form (here or in ``alert_views``) comes back with
    its errors, the others new."""
    zone = viewer_zone(request)
    now = timezone.now()
    if close_form is None:
        close_form = CloseForm(zone=zone, initial={"ended_at": now.replace(second=0)})
    if confirm_form is None:
        # To the minute (a datetime-local input), so never after now.
        initial = {"confirmed_at": now.replace(second=0, microsecond=0)}
        initial |= {"category": outage.category, "impact": outage.impact}
        confirm_form = ConfirmForm(zone=zone, initial=initial)
    return render_zoned(
        request,
        "ops/outage_detail.html",
        {
            "outage": outage,
            "row": _row(outage, now),
            "updates": outage.updates.all(),
            "update_form": update_form or UpdateForm(outage=outage),
            "close_form": close_form,
            "triage": {"confirm": confirm_form, "dismiss": dismiss_form or DismissForm()},
        },
    )


@role_required(roles.OPERATIONS)
def outage_detail(request: HttpRequest, outage_id: int) -> HttpResponse:
    return render_detail(request, outage_for_staff(outage_id))


@role_required(roles.OPERATIONS)
@require_POST
def outage_update(request: HttpRequest, outage_id: int) -> HttpResponse:
    outage = outage_for_staff(outage_id)
    form = UpdateForm(request.POST, outage=outage)
    if form.is_valid():
        try:
            services.outage_post_update(outage=outage, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            kind = "Public" if form.cleaned_data["public"] else "Internal"
            messages.success(request, f"{kind} update posted.")
            return redirect("ops-outage", outage_id=outage.pk)
    return render_detail(request, outage, update_form=form)


@role_required(roles.OPERATIONS)
@require_POST
def outage_close(request: HttpRequest, outage_id: int) -> HttpResponse:
    outage = outage_for_staff(outage_id)
    form = CloseForm(request.POST, zone=viewer_zone(request))
    if form.is_valid():
        try:
            services.outage_close(outage=outage, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            if not outage.is_ongoing:  # closed meanwhile: there is no close form to show
                messages.error(request, " ".join(exc.messages))
                return redirect("ops-outage", outage_id=outage.pk)
            add_service_errors(form, exc)
        else:
            messages.success(request, "Outage closed; customers see it as resolved.")
            return redirect("ops-outage", outage_id=outage.pk)
    return render_detail(request, outage, close_form=form)


@role_required(roles.OPERATIONS)
def outage_edit(request: HttpRequest, outage_id: int) -> HttpResponse:
    outage = get_object_or_404(outages_for_staff(), pk=outage_id)
    form = OutageForm(request.POST or None, zone=viewer_zone(request), outage=outage)
    reopened: list[Reopened] = []
    if form.is_bound and form.is_valid():
        reopened = _reopened(form, outage)
        if _confirmed(request, reopened):
            try:
                services.outage_change(
                    outage=outage, actor=request.user, **form.service_arguments()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Outage saved.{_told(reopened)}")
                return redirect("ops-outage", outage_id=outage.pk)
    return _render_form(request, form, outage, reopened)


# ---------------------------------------------------------------- availability


@availability_roles
def contract_list(request: HttpRequest) -> HttpResponse:
    contracts = Contract.objects.select_related("customer", "policy").prefetch_related(
        Prefetch("lines", queryset=ContractLine.objects.select_related("service"))
    )
    search = request.GET.get("q", "").strip()
    if search:
        contracts = contracts.filter(
            Q(reference__icontains=search) | Q(customer__name__icontains=search)
        )
    page, query = paginate(request, contracts.order_by("customer__name", "reference"))
    return render_zoned(
        request, "ops/contract_list.html", {"page": page, "query": query, "search": search}
    )
