from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Customers and contracts"

    def ready(self) -> None:
        from contracts.services import roles_sync

        # Permissions exist only after migrate, and each app's permissions only after
        # that app's post_migrate: the groups are synced once every app has had its turn.
        post_migrate.connect(_sync_roles, dispatch_uid="contracts.sync_roles")
        self._roles_sync = roles_sync


def _sync_roles(sender: AppConfig, **kwargs) -> None:
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender is not with_models[-1]:
        return
    apps.get_app_config("contracts")._roles_sync(using=kwargs.get("using", "default"))
