from django.urls import path

from portal.reports import api

urlpatterns = [
    path("reports/attainment/", api.AttainmentReportView.as_view(), name="api-attainment-report"),
]
