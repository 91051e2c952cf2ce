import time

from django.core.management.base import CommandError

from aicmo_site.management.arguments import stored_id
from aicmo_site.management.base import AuditedCommand
from analytics.services import contact_score_one, contacts_score
from crm.models import Contact


class Command(AuditedCommand):
    help = "Recompute engagement scores and tiers: every contact, or one with --contact ID."

    def add_arguments(self, parser):
        parser.add_argument("--contact", type=stored_id, help="score only this contact id")

    def handle(self, *args, contact=None, **options):
        started = time.monotonic()
        if contact is not None:
            if not Contact.objects.filter(pk=contact).exists():
                raise CommandError(f"No contact with id {contact}.")
            score = contact_score_one(contact_id=contact)
            self.stdout.write(f"Contact {contact}: {score.score} ({score.tier})")
            return
        result = contacts_score()
        self.stdout.write(self.style.SUCCESS(
            f"Scored {result['contacts_scored']:,} contacts ({result['scores_changed']:,} changed) "
            f"in {time.monotonic() - started:.1f}s."))
