from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The shell: root URLs, role homes, dashboards, /healthz, the demo and schedules."""

    name = "portal"
    verbose_name = "Portal"
