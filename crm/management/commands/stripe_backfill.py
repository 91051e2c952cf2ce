from datetime import UTC, datetime

from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand
from aicmo_site.models import RunStatus
from crm.stripe_backfill import stripe_backfill_run


def _date(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise CommandError(f"--since takes a date as YYYY-MM-DD, not {value!r}.")


class Command(AuditedCommand):
    help = ("Record the customers and charges already in Stripe (the payments provider account) as the webhook "
            "would; running it again adds nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only customers and charges created on or after this day (YYYY-MM-DD, UTC)")

    def handle(self, *args, **options):
        since = _date(options["since"]) if options["since"] else None
        run = stripe_backfill_run(since=since)
        counts = run.result or {}
        summary = (f"{counts.get('customers', 0)} customers ({counts.get('contacts', 0)} matched to contacts), "
                   f"{counts.get('charges', 0)} charges: {counts.get('payments', 0)} payments and "
                   f"{counts.get('refunds', 0)} refunds added (run {run.pk}).")
        if run.status != RunStatus.COMPLETED:
            raise CommandError(f"{run.error} So far: {summary}")
        self.stdout.write(f"Stripe backfill done: {summary}")
