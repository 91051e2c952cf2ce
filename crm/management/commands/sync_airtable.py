from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand
from crm.airtable_sync import contacts_sync_airtable, recent_changes_since


def _split(outcome) -> str:
    if outcome.created + outcome.updated == outcome.written:
        return f"{outcome.created} created, {outcome.updated} updated"
    return "Airtable did not say which were new"


class Command(AuditedCommand):
    help = "Push contacts and their status to Airtable (the CRM-sync provider account)."

    def add_arguments(self, parser):
        parser.add_argument("--recent", action="store_true",
                            help="Only contacts changed in the last CRM_AIRTABLE_SYNC_LOOKBACK_MINUTES")

    def handle(self, *args, **options):
        outcome = contacts_sync_airtable(changed_since=recent_changes_since() if options["recent"] else None)
        if outcome.skipped:
            raise CommandError(f"Nothing pushed: {outcome.error}")
        for email, reason in outcome.failed:
            self.stderr.write(f"  {email}: {reason}")
        self.stdout.write(f"Pushed {outcome.contacts} contacts: {outcome.written} written to Airtable "
                          f"({_split(outcome)}), {len(outcome.failed)} refused.")
        if outcome.error:
            raise CommandError(f"Stopped early: {outcome.error}")
