import time

from django.core.management.base import CommandError

from aicmo_site.management.arguments import whole_number
from aicmo_site.management.base import AuditedCommand
from analytics.services import rollup_rebuild


def progress_bar(stream, started: float):
    def show(done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = int(share * 30)
        elapsed = time.monotonic() - started
        stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {share:6.1%}  {elapsed:5.1f}s", ending="")
        stream.flush()

    return show


class Command(AuditedCommand):
    help = "Recompute every analytics roll-up from the source tables (same numbers as the incremental folds)."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=whole_number(1), default=2_000_000, help="events read per step")

    def handle(self, *args, chunk_size, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        started = time.monotonic()
        result = rollup_rebuild(progress=progress_bar(self.stderr, started), chunk_size=chunk_size)
        self.stderr.write("")
        self.stdout.write(self.style.SUCCESS(
            f"Rebuilt from {result['events_folded']:,} events and {result['post_days']:,} post-days "
            f"in {time.monotonic() - started:.1f}s."))
