from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        # An invoice recorded (contracts, a layer below) takes the approved credits that
        # wait for one; the hourly sweep (``credits_apply_owed``) catches any it missed.
        from contracts.signals import invoice_recorded
        from credits import webhooks
        from credits.services.application import invoice_recorded_received

        invoice_recorded.connect(invoice_recorded_received, dispatch_uid="credits.invoice_recorded")
        webhooks.register()
