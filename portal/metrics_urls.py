"""``/metrics`` for Prometheus (portal/metrics.py), protected by ``METRICS_TOKEN``."""

from django.urls import path

from portal.metrics import metrics

urlpatterns = [
    path("metrics", metrics, name="metrics"),
]
