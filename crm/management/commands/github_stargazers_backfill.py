from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand
from aicmo_site.models import RunStatus
from crm.models import WatchedRepository
from crm.services.stargazers import stargazers_backfill_run


class Command(AuditedCommand):
    help = ("Page through a watched GitHub repository's stargazers and match them to contacts by the public "
            "email GitHub shows; each GitHub user is looked up once, so running it again costs little.")

    def add_arguments(self, parser):
        parser.add_argument("repository", help="A watched repository, as owner/name")

    def handle(self, *args, **options):
        repository = WatchedRepository.objects.filter(full_name__iexact=options["repository"].strip()).first()
        if repository is None:
            raise CommandError(f"{options['repository']} is not a watched repository; an Admin adds it first.")
        run = stargazers_backfill_run(repository=repository)
        counts = run.result or {}
        summary = (f"{counts.get('stargazers', 0)} stargazers on {counts.get('pages', 0)} pages, "
                   f"{counts.get('looked_up', 0)} looked up ({counts.get('public_emails', 0)} with a public email), "
                   f"{counts.get('contacts_matched', 0)} contacts matched, {counts.get('stars_recorded', 0)} stars "
                   f"recorded (run {run.pk}).")
        if run.status != RunStatus.COMPLETED:
            raise CommandError(f"{run.error} So far: {summary}")
        self.stdout.write(f"Stargazers backfill done: {summary}")
