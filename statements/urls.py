"""Statement pages: the customer's statements under /portal/, staff under /backoffice/."""

from django.urls import path

from statements.views import portal, staff

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
]
