from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand
from crm.services.repositories import PollStatus, repositories_poll


class Command(AuditedCommand):
    help = "Read today's figures of every watched GitHub repository now, as the hourly schedule does."

    def handle(self, *args, **options):
        results = repositories_poll()
        for result in results:
            self.stdout.write(f"{result.repository}: {result.status}{f' ({result.detail})' if result.detail else ''}")
        if any(result.status in (PollStatus.FAILED, PollStatus.NO_ACCOUNT) for result in results):
            raise CommandError("Some repositories could not be read; see above.")
