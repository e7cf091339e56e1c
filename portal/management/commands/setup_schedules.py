from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from portal.schedules import SCHEDULES


class Command(BaseCommand):
    help = "Write every periodic job into django-celery-beat (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        for schedule in SCHEDULES:
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=schedule.minute,
                hour=schedule.hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=schedule.timezone,
            )
            PeriodicTask.objects.update_or_create(
                name=schedule.name,
                defaults={
                    "task": schedule.task,
                    "crontab": crontab,
                    "interval": None,
                    "enabled": True,
                    "description": schedule.description,
                    "expires": None,
                    "expire_seconds": schedule.expire_seconds,
                },
            )
        stale = PeriodicTask.objects.exclude(name__in=[s.name for s in SCHEDULES]).exclude(
            name__startswith="celery."
        )
        removed, _ = stale.delete()
        self.stdout.write(
            self.style.SUCCESS(f"Schedules: {len(SCHEDULES)} written, {removed} stale removed.")
        )
