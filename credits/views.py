"""Service credit pages. Thin: parse, call a service or selector, render.

* The account manager's approval queue (``/am/credits/``) and one credit's page with its
  working, the availability behind it, the decision forms and its history. A credit of a
  customer they do not manage is a 404 (an administrator sees every credit, and only the
  customer's account managers decide, as the services insist).
* The customer's credits page (``/portal/credits/``): balance, ledger entries and the
  invoice each applied entry went to.
* Invoices with their lines, negative credit lines included, for the customer
  (``/portal/invoices/``) and for staff (``/am/invoices/``).

Times are shown in the viewer's own zone (``User.time_zone``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any, NoReturn

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from contracts.forms import add_service_errors
from contracts.models import Invoice
from credits import selectors, services
from credits.forms import DirectForm, RejectForm
from credits.models import Credit
from credits.services._common import manages
from credits.services.application import invoice_kinds, target_kind
from slaportal import roles
from slaportal.formatting import minutes_text, percent_text
from slaportal.money import format_money
from slaportal.months import format_month
from slaportal.pages import paginate, render_zoned
from slaportal.permissions import customer_required, get_customer_object_or_404, role_required

RECENT_DECISIONS = 10
RECENT_CREDITS = 12
staff_pages = role_required(roles.ACCOUNT_MANAGER)


def with_states(credits: Iterable[Credit]) -> list[Credit]:
    """The credits, each with ``state``: what became of it now, read from the ledger and
    its credit notes (``selectors.credit_states``), for the badge and the line under it."""
    credits = list(credits)
    states = selectors.credit_states(c.pk for c in credits)
    for credit in credits:
        credit.state = states.get(credit.pk)
    return credits


def _minutes(text: str | None) -> str | None:
    """A figure of the working (``"43200"``, ``"90.5"``) as pages show minutes."""
    return minutes_text(text) if text else None


def _credit_card(credit: Credit) -> dict[str, Any]:
    """What a page shows of a credit: the figures, the working and where they came from."""
    figures = credit.working.get("availability", {})
    return {
        "credit": credit,
        "customer": credit.contract.customer,
        "amount": format_money(credit.amount, credit.currency),
        "availability": percent_text(Fraction(credit.availability_pct) / 100),
        "downtime_minutes": _minutes(figures.get("downtime_minutes")),
        "denominator_minutes": _minutes(figures.get("denominator_minutes")),
        "working": credit.working.get("working", []),
        "availability_url": reverse("ops-contract-availability", args=[credit.contract_id])
        + f"?month={format_month(credit.month)}",
    }


# ---------------------------------------------------------------- account manager


def _staff_credit(request: HttpRequest, credit_id: int) -> Credit:
    """The one ownership helper of the staff credit pages."""
    return get_object_or_404(selectors.credits_for_staff(request.user), pk=credit_id)


@staff_pages
def credit_queue(request: HttpRequest) -> HttpResponse:
    credits = selectors.credits_for_staff(request.user)
    pending = credits.filter(status=Credit.Status.PENDING).order_by(
        "month", "contract__customer__name", "contract__reference", "service__name"
    )
    decided = credits.filter(status__in=[Credit.Status.APPROVED, Credit.Status.REJECTED])
    page, query = paginate(request, pending)
    return render_zoned(
        request,
        "credits/queue.html",
        {
            "page": page,
            "query": query,
            "cards": [_credit_card(credit) for credit in page],
            "recent": with_states(decided.order_by("-decided_at", "-pk")[:RECENT_DECISIONS]),
            "sees_all": roles.has_role(request.user, roles.ADMIN),
        },
    )


def _render_credit(
    request: HttpRequest,
    credit: Credit,
    form: RejectForm | None = None,
    direct_form: DirectForm | None = None,
) -> HttpResponse:
    with_states([credit])
    kinds = invoice_kinds(credit)
    return render_zoned(
        request,
        "credits/credit_detail.html",
        {
            **_credit_card(credit),
            "may_decide": manages(request.user, credit.contract.customer),
            "form": form or RejectForm(),
            "target_kind": dict(Invoice.Kind.choices)[target_kind(credit)],
            # A refused choice is shown with its error; else the choice is offered while
            # the policy allows more than one kind and something is left to direct.
            "direct_form": direct_form
            or (
                DirectForm(kinds=kinds, initial={"invoice_kind": target_kind(credit)})
                if len(kinds) > 1
                and credit.status in (Credit.Status.PENDING, Credit.Status.APPROVED)
                and credit.state.status not in ("applied", "expired", "withdrawn")
                else None
            ),
            "notes": credit.credit_notes.select_related("invoice").order_by("issued_at", "pk"),
            "history": selectors.credit_history(credit),
            "entries": credit.entries.select_related("invoice_line__invoice"),
        },
    )


@staff_pages
def credit_detail(request: HttpRequest, credit_id: int) -> HttpResponse:
    return _render_credit(request, _staff_credit(request, credit_id))


def _refuse(request: HttpRequest, exc: PermissionDenied) -> NoReturn:
    # An administrator sees every credit but decides none they do not manage (a 403);
    # anyone else refused here no longer manages the customer: not their credit, a 404.
    if roles.has_role(request.user, roles.ADMIN):
        raise exc
    raise Http404


@staff_pages
@require_POST
def credit_approve(request: HttpRequest, credit_id: int) -> HttpResponse:
    credit = _staff_credit(request, credit_id)
    try:
        services.credit_approve(credit=credit, actor=request.user)
    except PermissionDenied as exc:
        _refuse(request, exc)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("am-credit", credit_id=credit.pk)
    state = selectors.credit_states([credit.pk])[credit.pk]
    messages.success(
        request,
        f"Approved: {format_money(credit.amount, credit.currency)} credited to "
        f"{credit.contract.customer.name} ({credit.service.name}, {credit.month:%B %Y}). "
        + (
            f"{state.label}."
            if state.applied
            else f"It goes on their next open {target_kind(credit).replace('_', ' ')} "
            f"invoice in {credit.currency} once one is recorded."
        ),
    )
    return redirect("am-credits")


@staff_pages
@require_POST
def credit_direct(request: HttpRequest, credit_id: int) -> HttpResponse:
    credit = _staff_credit(request, credit_id)
    form = DirectForm(request.POST, kinds=invoice_kinds(credit))
    if form.is_valid():
        try:
            services.credit_direct(
                credit=credit, invoice_kind=form.cleaned_data["invoice_kind"], actor=request.user
            )
        except PermissionDenied as exc:
            _refuse(request, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            kind = dict(Invoice.Kind.choices)[form.cleaned_data["invoice_kind"]].lower()
            messages.success(request, f"The credit now goes to the next {kind} invoice.")
            return redirect("am-credit", credit_id=credit.pk)
    return _render_credit(request, credit, direct_form=form)


@staff_pages
@require_POST
def credit_reject(request: HttpRequest, credit_id: int) -> HttpResponse:
    credit = _staff_credit(request, credit_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.credit_reject(
                credit=credit, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied as exc:
            _refuse(request, exc)
        except ValidationError as exc:
            if "status" in getattr(exc, "error_dict", {}):  # decided meanwhile
                messages.error(request, " ".join(exc.messages))
                return redirect("am-credit", credit_id=credit.pk)
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Rejected: {credit.contract.customer.name}'s credit for "
                f"{credit.service.name}, {credit.month:%B %Y}.",
            )
            return redirect("am-credits")
    return _render_credit(request, credit, form=form)


@staff_pages
def staff_invoice_list(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, selectors.invoices_for_staff(request.user))
    return render_zoned(
        request,
        "credits/invoice_list.html",
        {
            "page": page,
            "query": query,
            "staff": True,
            "sees_all": roles.has_role(request.user, roles.ADMIN),
        },
    )


@staff_pages
def staff_invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(selectors.invoices_for_staff(request.user), pk=invoice_id)
    return _render_invoice(request, invoice, staff=True)


# ---------------------------------------------------------------- customer portal


@customer_required
def customer_credits(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    balances = [
        {"currency": currency, "amount": format_money(amount, currency), "zero": amount == 0}
        for currency, amount in selectors.customer_balances(customer).items()
    ]
    page, query = paginate(request, selectors.ledger_newest_first(customer))
    credits = with_states(
        selectors.credits_for_customer(customer).order_by("-month", "-pk")[:RECENT_CREDITS]
    )
    return render_zoned(
        request,
        "credits/customer_credits.html",
        {
            "customer": customer,
            "balances": balances,
            "page": page,
            "query": query,
            "credits": credits,
        },
    )


@customer_required
def customer_invoice_list(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, selectors.invoices_for_customer(request.user.customer))
    return render_zoned(
        request, "credits/invoice_list.html", {"page": page, "query": query, "staff": False}
    )


@customer_required
def customer_invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = get_customer_object_or_404(
        request, Invoice.objects.select_related("customer", "contract"), pk=invoice_id
    )
    return _render_invoice(request, invoice, staff=False)


def _render_invoice(request: HttpRequest, invoice: Invoice, *, staff: bool) -> HttpResponse:
    lines = invoice.lines.select_related("entry").order_by("pk")
    return render_zoned(
        request,
        "credits/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": lines,
            "credited": sum((line.amount for line in lines if line.amount < 0), Decimal(0)),
            "staff": staff,
        },
    )
