"""Statement pages: the customer's statements under /portal/, staff under /backoffice/
(statements, runs, and the re-issue requests waiting for staff)."""

from django.urls import path

from statements.views import portal, reissues, staff

urlpatterns = [
    path("portal/statements/", portal.statement_list, name="portal-statements"),
    path("portal/statements/<int:statement_id>/", portal.statement_detail, name="portal-statement"),
    path(
        "portal/statements/<int:statement_id>/pdf/",
        portal.statement_pdf,
        name="portal-statement-pdf",
    ),
    path("backoffice/statements/", staff.statement_list, name="staff-statements"),
    path(
        "backoffice/statements/generate/",
        staff.statements_generate,
        name="staff-statements-generate",
    ),
    path("backoffice/statements/runs/", staff.run_list, name="staff-statement-runs"),
    path(
        "backoffice/statements/runs/<int:run_id>/retry/",
        staff.run_retry,
        name="staff-statement-run-retry",
    ),
    path(
        "backoffice/statements/<int:statement_id>/", staff.statement_detail, name="staff-statement"
    ),
    path(
        "backoffice/statements/<int:statement_id>/pdf/",
        staff.statement_pdf,
        name="staff-statement-pdf",
    ),
    path(
        "backoffice/statements/<int:statement_id>/pdf/restore/",
        staff.statement_pdf_restore_view,
        name="staff-statement-pdf-restore",
    ),
    path(
        "backoffice/statements/<int:statement_id>/draft/",
        staff.statement_regenerate_draft,
        name="staff-statement-draft",
    ),
    path(
        "backoffice/statements/<int:statement_id>/reissue/",
        staff.statement_reissue_view,
        name="staff-statement-reissue",
    ),
    # Re-issue requests waiting for staff: an outage changed after a stated month ended.
    path("backoffice/reissues/", reissues.reissue_request_list, name="staff-reissue-requests"),
    path(
        "backoffice/reissues/<int:request_id>/reissue/",
        reissues.reissue_request_reissue_view,
        name="staff-reissue-request-reissue",
    ),
    path(
        "backoffice/reissues/<int:request_id>/dismiss/",
        reissues.reissue_request_dismiss_view,
        name="staff-reissue-request-dismiss",
    ),
]
