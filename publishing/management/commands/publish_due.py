from django.core.management.base import CommandError

from aicmo_site.management.arguments import whole_number
from aicmo_site.management.base import AuditedCommand
from publishing import dispatcher


class Command(AuditedCommand):
    help = "Publish the jobs that are due (once, for cron), or keep polling with --loop."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep polling until stopped (or --seconds pass).")
        parser.add_argument("--seconds", type=float, default=None, help="With --loop: stop after this long.")
        parser.add_argument("--poll", type=float, default=None, help="With --loop: seconds between polls.")
        parser.add_argument("--limit", type=whole_number(1, 100_000), default=None, help="Jobs claimed per round.")

    def handle(self, *args, loop, seconds, poll, limit, **options):
        if (seconds is not None and seconds <= 0) or (poll is not None and poll <= 0):
            raise CommandError("--seconds and --poll must be positive.")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        if loop:
            counts = dispatcher.dispatch_loop(seconds=seconds if seconds is not None else float("inf"), poll=poll)
        else:
            counts = dispatcher.dispatch_once(limit=limit)
        summary = ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) or "nothing due"
        self.stdout.write(summary)
