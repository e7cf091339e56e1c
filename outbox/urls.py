"""The webhook back-office pages, included by the portal's URLs."""

from django.urls import path

from outbox import views

urlpatterns = [
    path("backoffice/webhooks/", views.endpoint_list, name="webhook-endpoints"),
    path("backoffice/webhooks/new/", views.endpoint_new, name="webhook-endpoint-new"),
    path("backoffice/webhooks/deliveries/", views.delivery_list, name="webhook-deliveries"),
    path(
        "backoffice/webhooks/deliveries/<int:delivery_id>/",
        views.delivery_detail,
        name="webhook-delivery",
    ),
    path(
        "backoffice/webhooks/deliveries/<int:delivery_id>/replay/",
        views.delivery_replay,
        name="webhook-delivery-replay",
    ),
    path("backoffice/webhooks/<int:endpoint_id>/", views.endpoint_detail, name="webhook-endpoint"),
    path(
        "backoffice/webhooks/<int:endpoint_id>/edit/",
        views.endpoint_edit,
        name="webhook-endpoint-edit",
    ),
    path(
        "backoffice/webhooks/<int:endpoint_id>/deactivate/",
        views.endpoint_deactivate,
        name="webhook-endpoint-deactivate",
    ),
    path(
        "backoffice/webhooks/<int:endpoint_id>/rotate-secret/",
        views.endpoint_rotate_secret,
        name="webhook-endpoint-rotate-secret",
    ),
]
