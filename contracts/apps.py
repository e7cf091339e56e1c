from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Customers and contracts"

    def ready(self) -> None:
        from contracts.services import roles_sync

        # Permissions exist only after migrate, so the groups are synced after it too.
        post_migrate.connect(_sync_roles, sender=self)
        self._roles_sync = roles_sync


def _sync_roles(sender: AppConfig, **kwargs) -> None:
    sender._roles_sync(using=kwargs.get("using", "default"))
