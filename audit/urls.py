from django.urls import path

from audit import views

urlpatterns = [path("backoffice/audit/", views.audit_log, name="backoffice-audit")]
