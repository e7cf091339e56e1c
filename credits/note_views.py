"""Credit note pages: the customer's own notes (``/portal/credits/notes/``) and staff's
(``/am/credits/notes/``: the account managers of the note's customer, administrators),
each with its PDF download; staff restore a stored PDF that went missing or was altered.

A PDF that cannot be served as issued (its file missing, or not matching its SHA-256)
is never sent: the page says what happened, with a 409 (altered) or 503 (missing).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from credits import selectors, services
from credits.models import CreditNote
from credits.services import CreditNotePdfUnavailable
from slaportal import roles
from slaportal.pages import paginate, render_zoned
from slaportal.permissions import customer_required, role_required

staff_pages = role_required(roles.ACCOUNT_MANAGER)
UNAVAILABLE_STATUS = {"altered": 409, "missing": 503}


def _staff_note(request: HttpRequest, note_id: int) -> CreditNote:
    """The one ownership helper of the staff note pages."""
    return get_object_or_404(selectors.credit_notes_for_staff(request.user), pk=note_id)


def _own_note(request: HttpRequest, note_id: int) -> CreditNote:
    """The one ownership helper of the customer's note pages."""
    notes = selectors.credit_notes_for_customer(request.user.customer)
    return get_object_or_404(notes, pk=note_id)


def _pdf(request: HttpRequest, note: CreditNote, *, staff: bool) -> HttpResponse:
    try:
        content = services.credit_note_pdf_bytes(note)
    except CreditNotePdfUnavailable as exc:
        return render_zoned(
            request,
            "credits/notes/unavailable.html",
            {"note": note, "reason": exc.reason, "staff": staff},
            status=UNAVAILABLE_STATUS[exc.reason],
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{note.number}.pdf"'
    return response


def _list(request: HttpRequest, notes, *, staff: bool) -> HttpResponse:
    page, query = paginate(request, notes)
    return render_zoned(
        request,
        "credits/notes/list.html",
        {
            "page": page,
            "query": query,
            "staff": staff,
            "sees_all": staff and roles.has_role(request.user, roles.ADMIN),
        },
    )


@customer_required
def customer_note_list(request: HttpRequest) -> HttpResponse:
    return _list(request, selectors.credit_notes_for_customer(request.user.customer), staff=False)


@customer_required
def customer_note_pdf(request: HttpRequest, note_id: int) -> HttpResponse:
    return _pdf(request, _own_note(request, note_id), staff=False)


@staff_pages
def staff_note_list(request: HttpRequest) -> HttpResponse:
    return _list(request, selectors.credit_notes_for_staff(request.user), staff=True)


@staff_pages
def staff_note_pdf(request: HttpRequest, note_id: int) -> HttpResponse:
    return _pdf(request, _staff_note(request, note_id), staff=True)


@staff_pages
@require_POST
def staff_note_rerender(request: HttpRequest, note_id: int) -> HttpResponse:
    note = _staff_note(request, note_id)
    try:
        outcome = services.credit_note_rerender(note=note, actor=request.user)
    except PermissionDenied as exc:  # no longer manages the customer
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("am-credit-notes")
    text = {
        "restored": f"The PDF of {note.number} is restored: it matches the document issued.",
        "intact": f"The PDF of {note.number} is intact; nothing was changed.",
        "rendered": f"The PDF of {note.number} is rendered and stored.",
    }[outcome]
    messages.success(request, text)
    return redirect("am-credit-notes")
