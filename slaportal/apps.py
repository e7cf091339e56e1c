from django.apps import AppConfig


class SlaPortalConfig(AppConfig):
    """The project package as an app, for its signal receivers (no models)."""

    name = "slaportal"
    verbose_name = "SLA Portal"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from slaportal import checks  # noqa: F401  (registers the deploy checks)
        from slaportal.middleware import start_staff_idle_clock

        user_logged_in.connect(start_staff_idle_clock, dispatch_uid="slaportal.staff_idle")
