from django_q.models import Schedule

from aicmo_site import schedules
from aicmo_site.management.base import AuditedCommand
from aicmo_site.registry import app_modules


class Command(AuditedCommand):
    help = "Write the periodic schedules declared in the site's and each app's schedules.py (idempotent)."

    def handle(self, *args, **options):
        for app, module in [("aicmo_site", schedules), *app_modules("schedules")]:
            for spec in module.SCHEDULES:
                spec = dict(spec)
                name = spec.pop("name")
                _, created = Schedule.objects.update_or_create(name=name, defaults=spec)
                self.stdout.write(f"{app}: {name} {'created' if created else 'up to date'}")
