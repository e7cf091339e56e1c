from django.apps import AppConfig


class StatementsConfig(AppConfig):
    name = "statements"
    verbose_name = "Statements"

    def ready(self) -> None:
        # Credits cannot call statements (a layer above it): it announces each decision,
        # and the statements waiting for it are rendered and sent after the commit. The
        # hourly tick delivers them too, should this path lose its task.
        from credits.signals import credit_decided
        from statements.services.delivery import credit_decided_received

        credit_decided.connect(credit_decided_received, dispatch_uid="statements.credit_decided")

        from statements import webhooks

        webhooks.register()

        # Outages warn before a change reopens a stated month, and open re-issue requests
        # for it; which months are stated is ours to say (outages cannot import us).
        from outages.reopening import register_stated
        from statements.selectors import stated_months

        register_stated(stated_months)
