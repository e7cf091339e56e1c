"""Status page subscriptions by e-mail: no login; the token pages are the links we send."""

from django.urls import path

from status import subscription_views as views

urlpatterns = [
    path("status/subscribe/", views.subscribe, name="status-subscribe"),
    path("status/subscribe/sent/", views.subscribe_sent, name="status-subscribe-sent"),
    path(
        "status/subscriptions/<slug:token>/",
        views.subscription_manage,
        name="status-subscription",
    ),
    path(
        "status/subscriptions/<slug:token>/confirm/",
        views.subscription_confirm,
        name="status-subscription-confirm",
    ),
    path(
        "status/subscriptions/<slug:token>/unsubscribe/",
        views.subscription_unsubscribe,
        name="status-subscription-unsubscribe",
    ),
]
