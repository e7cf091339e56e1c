"""The staff statement pages (``/backoffice/statements/``). Account managers, operations
and administrators read every statement and run; account managers and administrators
act: preview or regenerate a draft, re-issue an issued month, generate a month's
statements, retry a run's failures. Each action is one service call."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from contracts.forms import add_service_errors
from slaportal import authority, roles
from slaportal.pages import paginate, render_zoned
from slaportal.permissions import role_required
from statements.forms import GenerateForm, ReissueForm, StatementFilterForm
from statements.models import Statement, StatementRun, StatementRunItem
from statements.selectors import statement_email, statements_for_staff, waiting_reissue_requests
from statements.services import (
    may_restore,
    statement_generate,
    statement_pdf_restore,
    statement_reissue,
    statement_run_retry,
    statements_plan,
)
from statements.stored_pdf import MESSAGES, StoredPdfError, stored_problem
from statements.views.common import pdf_error_page, pdf_response, summary

readers = role_required(roles.ACCOUNT_MANAGER, roles.OPERATIONS)
actors = role_required(roles.ACCOUNT_MANAGER)


def _may_act(request: HttpRequest) -> bool:
    return bool(roles.staff_roles(request.user) & {roles.ACCOUNT_MANAGER, roles.ADMIN})


def _statement(statement_id: int) -> Statement:
    return get_object_or_404(statements_for_staff(), pk=statement_id)


@readers
def statement_list(request: HttpRequest) -> HttpResponse:
    statements = statements_for_staff()
    filters = StatementFilterForm(request.GET or None)
    if filters.is_valid():
        data = filters.cleaned_data
        if data["month"]:
            statements = statements.filter(month=data["month"])
        if data["customer"]:
            statements = statements.filter(contract__customer=data["customer"])
        if data["status"]:
            statements = statements.filter(status=data["status"])
    elif filters.is_bound:
        statements = statements.none()
    page, query = paginate(request, statements)
    return render_zoned(
        request,
        "statements/staff/list.html",
        {
            "page": page,
            "filters": filters,
            "query": query,
            "generate_form": GenerateForm(),
            "may_act": _may_act(request),
            "reissues_waiting": (
                waiting_reissue_requests(request.user).count() if _may_act(request) else 0
            ),
        },
    )


def _render_detail(
    request: HttpRequest, statement: Statement, reissue_form: ReissueForm | None = None
) -> HttpResponse:
    return render_zoned(
        request,
        "statements/staff/detail.html",
        {
            "statement": statement,
            **summary(statement),
            "email": statement_email(statement),
            "may_act": authority.acts_for(request.user, statement.contract.customer_id),
            "may_restore": may_restore(request.user, statement),
            "pdf_problem": stored_problem(statement),
            "pdf_messages": MESSAGES,
            "reissue_form": reissue_form or ReissueForm(),
        },
    )


@readers
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    return _render_detail(request, _statement(statement_id))


@readers
def statement_pdf(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = _statement(statement_id)
    try:
        return pdf_response(statement)
    except StoredPdfError as error:
        restore = None
        if may_restore(request.user, statement):
            restore = reverse("staff-statement-pdf-restore", args=[statement.pk])
        return pdf_error_page(
            request,
            error,
            back=reverse("staff-statement", args=[statement.pk]),
            restore=restore,
        )


RESTORED = {
    "intact": "The stored PDF matches its checksum: nothing to re-render.",
    "restored": "The PDF was re-rendered from the statement and matches the issued "
    "document byte for byte; it is served again.",
    "replaced": "The PDF was re-rendered from the statement and stored as a new file with "
    "its own checksum (the re-render differs in bytes from the original); the audit log "
    "keeps the old checksum.",
}


@actors
@require_POST
def statement_pdf_restore_view(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = _statement(statement_id)
    try:
        # Another customer's account manager: PermissionDenied, a 403 (staff read every
        # statement, so it is no secret that it exists); the same for every action here.
        outcome = statement_pdf_restore(statement=statement, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        level = messages.info if outcome == "intact" else messages.success
        level(request, RESTORED[outcome])
    return redirect("staff-statement", statement_id=statement.pk)


@actors
@require_POST
def statement_regenerate_draft(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = _statement(statement_id)
    return _draft(request, statement.contract, statement.month)


def _draft(request: HttpRequest, contract, month) -> HttpResponse:
    try:
        result = statement_generate(contract=contract, month=month, draft=True, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("staff-statements")
    if result.status == Statement.Status.DRAFT:
        messages.success(request, f"Draft {result.number} generated from the current figures.")
    else:
        messages.info(request, f"{month:%B %Y} is issued already: {result.number}.")
    return redirect("staff-statement", statement_id=result.pk)


@actors
@require_POST
def statement_reissue_view(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = _statement(statement_id)
    form = ReissueForm(request.POST)
    if form.is_valid():
        try:
            result = statement_reissue(
                contract=statement.contract,
                month=statement.month,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                force=form.cleaned_data["force"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if result.pk == statement.pk:
                messages.info(request, "The figures have not changed: nothing was re-issued.")
            else:
                messages.success(request, f"Re-issued as {result.number}.")
            return redirect("staff-statement", statement_id=result.pk)
    return _render_detail(request, statement, reissue_form=form)


@actors
@require_POST
def statements_generate(request: HttpRequest) -> HttpResponse:
    draft = "draft" in request.POST
    form = GenerateForm(request.POST, draft=draft)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect("staff-statements")
    month, contract = form.cleaned_data["month"], form.cleaned_data["contract"]
    if draft:
        return _draft(request, contract, month)
    run = statements_plan(
        month=month,
        trigger=StatementRun.Trigger.COMMAND,
        contract_ids=[contract.pk] if contract else None,
        actor=request.user,
    )
    if run is None:
        messages.info(
            request, f"Nothing to generate: no contract is owed a {month:%B %Y} statement."
        )
    else:
        messages.success(request, f"Run started: {run.planned} statement(s) for {month:%B %Y}.")
    return redirect("staff-statement-runs")


@readers
def run_list(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, StatementRun.objects.select_related("created_by", "retry_of"))
    failures: dict[int, list[StatementRunItem]] = {run.pk: [] for run in page}
    for item in (
        StatementRunItem.objects.filter(
            run__in=list(failures), status=StatementRunItem.Status.FAILED
        )
        .select_related("contract__customer")
        .order_by("run", "pk")
    ):
        failures[item.run_id].append(item)
    runs = [{"run": run, "failures": failures[run.pk]} for run in page]
    return render_zoned(
        request,
        "statements/staff/runs.html",
        {"page": page, "query": query, "runs": runs, "may_act": _may_act(request)},
    )


@actors
@require_POST
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(StatementRun, pk=run_id)
    retry = statement_run_retry(run=run, actor=request.user)
    if retry is None:
        messages.info(request, "Nothing to retry: every failed contract has its statement now.")
    else:
        messages.success(
            request, f"Retrying {retry.planned} failed statement(s) as run {retry.pk}."
        )
    return redirect(reverse("staff-statement-runs"))
