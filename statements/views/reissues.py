"""The re-issue requests page (``/backoffice/reissues/``): the requests waiting for staff
(an outage changed after a stated month ended), each re-issued or dismissed with a
reason, and the ones resolved lately. An account manager sees their own customers'; an
administrator every customer's; a request of a customer the viewer does not act for is
a 404. Each action is one service call (``statements.services.reissues``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from contracts.forms import add_service_errors
from outages.models import ReissueRequest
from slaportal import roles
from slaportal.pages import page_number, paginate, render_zoned
from slaportal.permissions import role_required
from statements.forms import DismissReissueForm
from statements.selectors import (
    issued_statements,
    reissue_requests_for_staff,
    resolved_reissue_requests,
    waiting_reissue_requests,
)
from statements.services.reissues import reissue_request_dismiss, reissue_request_reissue

RECENTLY_RESOLVED = 20
managers = role_required(roles.ACCOUNT_MANAGER)
Resolution = ReissueRequest.Resolution


def _reissue_request(request: HttpRequest, request_id: int) -> ReissueRequest:
    """The one ownership helper of this page: a request of a customer the viewer acts
    for; anyone else's is a 404."""
    return get_object_or_404(reissue_requests_for_staff(request.user), pk=request_id)


def _dismiss_form(reissue: ReissueRequest, data: QueryDict | None = None) -> DismissReissueForm:
    # One form per row: ids of their own, so each label names its own input.
    return DismissReissueForm(data, auto_id=f"dismiss-{reissue.pk}-%s")


def _back(request: HttpRequest) -> str:
    """The list, at the page the action was taken from."""
    url = reverse("staff-reissue-requests")
    number = page_number(request.GET.get("page"))
    return f"{url}?page={number}" if number > 1 else url


def _render(
    request: HttpRequest, failed: tuple[int, DismissReissueForm] | None = None
) -> HttpResponse:
    page, query = paginate(request, waiting_reissue_requests(request.user))
    current = issued_statements({(r.contract_id, r.month) for r in page})
    rows = [
        {
            "request": reissue,
            "statement": current.get((reissue.contract_id, reissue.month)),
            "form": failed[1] if failed and failed[0] == reissue.pk else _dismiss_form(reissue),
        }
        for reissue in page
    ]
    return render_zoned(
        request,
        "statements/staff/reissue_requests.html",
        {
            "page": page,
            "query": query,
            "rows": rows,
            "recent": resolved_reissue_requests(request.user)[:RECENTLY_RESOLVED],
            "sees_all": roles.has_role(request.user, roles.ADMIN),
            # Outage pages are operations' and administrators': others read the title.
            "sees_outages": bool(roles.staff_roles(request.user) & {roles.OPERATIONS, roles.ADMIN}),
        },
    )


@managers
def reissue_request_list(request: HttpRequest) -> HttpResponse:
    return _render(request)


@managers
@require_POST
def reissue_request_reissue_view(request: HttpRequest, request_id: int) -> HttpResponse:
    reissue = _reissue_request(request, request_id)
    where = f"{reissue.contract.customer.name}, {reissue.month:%B %Y}"
    try:
        reissue = reissue_request_reissue(reissue_request=reissue, actor=request.user)
    except ValidationError as exc:
        messages.error(request, f"{where}: {' '.join(exc.messages)}")
    else:
        level = messages.success if reissue.resolution == Resolution.REISSUED else messages.info
        level(request, f"{where}: {reissue.resolution_note}")
    return redirect(_back(request))


@managers
@require_POST
def reissue_request_dismiss_view(request: HttpRequest, request_id: int) -> HttpResponse:
    reissue = _reissue_request(request, request_id)
    form = _dismiss_form(reissue, request.POST)
    if form.is_valid():
        try:
            reissue_request_dismiss(
                reissue_request=reissue, actor=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            if "resolution" in getattr(exc, "error_dict", {}):  # resolved meanwhile
                messages.error(request, " ".join(exc.messages))
                return redirect(_back(request))
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Dismissed: the re-issue request for {reissue.contract.customer.name}, "
                f"{reissue.month:%B %Y}.",
            )
            return redirect(_back(request))
    return _render(request, failed=(reissue.pk, form))
