from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from contracts import views as contract_views
from contracts.forms import InvitationForm
from slaportal.health import healthz

api_patterns = [
    path("", include("contracts.api_urls")),
    path("", include("outages.api_urls")),
    path("", include("credits.api_urls")),
    path("", include("tickets.api_urls")),
    path("", include("statements.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", contract_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
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
    path("", include("audit.urls")),
    path("", include("status.urls")),
]
