from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from contracts.forms import InvitationForm
from portal import views
from portal.health import healthz

DOCS_CSP = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

api_patterns = [
    path("", include("contracts.api_urls")),
    path("", include("outages.api_urls")),
    path("", include("credits.api_urls")),
    path("", include("tickets.api_urls")),
    path("", include("statements.api_urls")),
    path("", include("portal.reports.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs behind login; Swagger UI's script is a file of its own (the CSP allows no
    # inline script) and its code comes from the package, so the page works offline.
    # Both draw with inline styles, which these two pages alone allow.
    path(
        "docs/",
        DOCS_CSP(login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))),
        name="api-docs",
    ),
    path(
        "redoc/",
        DOCS_CSP(login_required(SpectacularRedocView.as_view(url_name="api-schema"))),
        name="api-redoc",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("portal/", views.customer_home, name="portal-home"),
    path("portal/sla/", views.customer_sla, name="portal-sla"),
    path("am/", views.account_manager_home, name="am-home"),
    path("backoffice/", views.backoffice_home, name="backoffice-home"),
    path("healthz", healthz, name="healthz"),
    path("", include("portal.metrics_urls")),
    # Invited people have no password yet; the reset form must reach them too.
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=InvitationForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_patterns)),
    path("", include("tickets.urls")),
    path("", include("contracts.urls")),
    path("", include("outages.urls")),
    path("", include("credits.urls")),
    path("", include("statements.urls")),
    path("", include("portal.reports.urls")),
    path("", include("audit.urls")),
    path("", include("outbox.urls")),
    path("", include("status.urls")),
    path("", include("status.api_urls")),
    path("", include("status.subscription_urls")),
    path("", include("outages.alert_urls")),
    path("", include("portal.incident_urls")),
]
