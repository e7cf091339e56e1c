"""The customer's statements: their organisation's issued and superseded statements
(never a draft), newest month first; one statement's summary; its PDF. Another
organisation's statement is a 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from slaportal.pages import paginate, render_zoned
from slaportal.permissions import customer_required
from statements.models import Statement
from statements.selectors import statements_for_customer
from statements.stored_pdf import StoredPdfError
from statements.views.common import pdf_error_page, pdf_response, summary


def _own(request: HttpRequest, statement_id: int) -> Statement:
    """The one ownership lookup of the customer pages: own organisation, never a draft."""
    statement = statements_for_customer(request.user.customer).filter(pk=statement_id).first()
    if statement is None:
        raise Http404("No such statement.")
    return statement


@customer_required
def statement_list(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, statements_for_customer(request.user.customer))
    return render_zoned(request, "statements/portal/list.html", {"page": page, "query": query})


@customer_required
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = _own(request, statement_id)
    return render_zoned(
        request,
        "statements/portal/detail.html",
        {"statement": statement, **summary(statement)},
    )


@customer_required
def statement_pdf(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = _own(request, statement_id)
    try:
        return pdf_response(statement)
    except StoredPdfError as error:
        return pdf_error_page(request, error, back=reverse("portal-statement", args=[statement.pk]))
