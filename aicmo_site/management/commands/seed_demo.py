from django.db import transaction

from aicmo_site.demo import seed_users
from aicmo_site.management.base import AuditedCommand
from aicmo_site.registry import app_modules


class Command(AuditedCommand):
    help = "Create demo users and data; running it again adds nothing twice."

    def handle(self, *args, **options):
        with transaction.atomic():
            for line in seed_users():
                self.stdout.write(line)
        for app, module in app_modules("demo"):
            with transaction.atomic():
                summary = module.seed()
            self.stdout.write(f"{app}: {summary}")
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
