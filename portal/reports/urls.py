"""The SLA attainment report: the customer's under /portal/, the staff's under /backoffice/."""

from django.urls import path

from portal.reports import views

urlpatterns = [
    path("portal/reports/attainment/", views.portal_attainment, name="portal-attainment"),
    path(
        "portal/reports/attainment/csv/",
        views.portal_attainment_csv,
        name="portal-attainment-csv",
    ),
    path(
        "portal/reports/attainment/xlsx/",
        views.portal_attainment_xlsx,
        name="portal-attainment-xlsx",
    ),
    path("backoffice/reports/attainment/", views.staff_attainment, name="staff-attainment"),
    path(
        "backoffice/reports/attainment/csv/",
        views.staff_attainment_csv,
        name="staff-attainment-csv",
    ),
    path(
        "backoffice/reports/attainment/xlsx/",
        views.staff_attainment_xlsx,
        name="staff-attainment-xlsx",
    ),
]
