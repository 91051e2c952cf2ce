from aicmo_site.management.base import AuditedCommand
from aicmo_site.retention import (
    BATCH_SIZE,
    keep_for_label,
    kind_label,
    policy_cutoff,
    retention_apply,
    retention_policies,
)


class Command(AuditedCommand):
    help = ("Apply the data-retention policies that are on, now (the nightly task does it too); --dry-run prints "
            "what would go, per kind, and deletes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                            help="Rows per statement and commit (default %(default)s).")

    def handle(self, *args, dry_run=False, batch_size=BATCH_SIZE, **options):
        policies = {p.kind: p for p in retention_policies() if p.enabled}
        if not policies:
            self.stdout.write("Every retention policy is off: everything is kept.")
            return
        applied = retention_apply(dry_run=dry_run, batch_size=batch_size)
        verb = "would go" if dry_run else "removed"
        for kind, count in applied.items():
            policy = policies[kind]
            self.stdout.write(f"{kind_label(kind)} (kept {keep_for_label(policy)}, older than "
                              f"{policy_cutoff(policy):%Y-%m-%d %H:%M}): {count} {verb}")
