from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "status"
    verbose_name = "Public status page"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from outages.models import OutageUpdate

        # outages sits below status and must not know of subscribers: the fan-out
        # listens for updates instead of being called (STYLE.md, "layers").
        post_save.connect(_update_saved, sender=OutageUpdate, dispatch_uid="status-update-fanout")


def _update_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """A public update was saved (by a service, the admin, a script): fan it out once its
    transaction commits. Whether it may be sent is the task's question; a dispatch lost
    with the broker is found by the sweep (``fanout_sweep_task``)."""
    if raw or not instance.public:
        return
    from slaportal.transactions import after_commit
    from status.tasks import fanout_dispatch

    after_commit(fanout_dispatch, instance.pk)
