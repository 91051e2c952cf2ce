from django.core.management.base import CommandError

from aicmo_site.errors import DomainError
from aicmo_site.management.base import AuditedCommand
from crm.models import Contact, Segment
from crm.services import enrichment_run_create, enrichment_run_process


class Command(AuditedCommand):
    help = "Enrich and verify contacts through the provider chain: a segment, all new contacts, or some emails."

    def add_arguments(self, parser):
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--segment", metavar="NAME", help="every contact of this saved segment")
        scope.add_argument("--all-new", action="store_true", help="every contact still in the New stage")
        scope.add_argument("--email", nargs="+", metavar="EMAIL", help="these contacts")
        parser.add_argument("--wait", action="store_true",
                            help="do the work in this process and print the counts, instead of queueing it")

    def handle(self, *args, segment=None, all_new=False, email=None, wait=False, **options):
        chosen = {}
        if segment:
            try:
                chosen["segment"] = Segment.objects.get(name=segment)
            except Segment.DoesNotExist:
                known = ", ".join(Segment.objects.values_list("name", flat=True)[:20]) or "none yet"
                raise CommandError(f"No segment is named {segment!r}. Segments: {known}.")
        elif all_new:
            chosen["all_new"] = True
        else:
            found = dict(Contact.objects.filter(email__in=[e.strip().lower() for e in email])
                         .values_list("email", "pk"))
            missing = sorted({e.strip().lower() for e in email} - set(found))
            if missing:
                raise CommandError(f"No contact has these emails: {', '.join(missing)}.")
            chosen["contact_ids"] = list(found.values())
        try:
            run = enrichment_run_create(enqueue=not wait, **chosen)
        except DomainError as error:
            raise CommandError(error.message)
        if not run.total:
            self.stdout.write(f"Nothing to enrich (run {run.pk}): {run.error}")
            return
        if not wait:
            self.stdout.write(f"Run {run.pk} queued {run.total} contacts; a worker (qcluster) will work them.")
            return
        run = enrichment_run_process(run_id=run.pk)
        self.stdout.write(
            f"Run {run.pk} {run.get_status_display().lower()}: {run.total} contacts, {run.enriched} enriched, "
            f"{run.verified} verified, {run.failed} failed, {run.skipped} skipped, {run.queued} still queued."
        )
        if run.error:
            self.stdout.write(run.error)
