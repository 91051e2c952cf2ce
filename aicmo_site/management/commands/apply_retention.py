from django.core.management import CommandError

from aicmo_site.errors import DomainError
from aicmo_site.management.base import AuditedCommand
from aicmo_site.retention import (
    BATCH_SIZE,
    CONTINUES,
    keep_for_label,
    kind_label,
    policy_cutoff,
    retention_apply,
    retention_policies,
    retention_run_now,
)


class Command(AuditedCommand):
    help = ("Apply the data-retention policies that are on, now (the nightly task does it too), recorded as a run "
            "on the retention page; --dry-run prints what would go, per kind, and deletes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                            help="Rows per statement and commit (default %(default)s).")
        parser.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                            help="Stop after the batch under way once this many seconds have passed; the next "
                                 "run continues (default: no limit).")

    def handle(self, *args, dry_run=False, batch_size=BATCH_SIZE, time_budget=None, **options):
        policies = {p.kind: p for p in retention_policies() if p.enabled}
        if not policies:
            self.stdout.write("Every retention policy is off: everything is kept.")
            return
        if dry_run:
            applied = retention_apply(dry_run=True, batch_size=batch_size)
        else:
            try:
                run = retention_run_now(label="Data retention (apply_retention command)", batch_size=batch_size,
                                        time_budget=time_budget)
            except DomainError as error:
                raise CommandError(error.message) from None
            applied = run.result
            self.stdout.write(f"Recorded as run {run.pk} on the retention page.")
        verb = "would go" if dry_run else "removed"
        for kind, count in applied.items():
            if kind == CONTINUES:
                continue
            policy = policies[kind]
            self.stdout.write(f"{kind_label(kind)} (kept {keep_for_label(policy)}, older than "
                              f"{policy_cutoff(policy):%Y-%m-%d %H:%M}): {count} {verb}")
        if applied.get(CONTINUES):
            self.stdout.write("Stopped at the time budget: the next run continues where this one stopped.")
