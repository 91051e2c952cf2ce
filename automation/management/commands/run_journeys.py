import time

from aicmo_site.management.base import AuditedCommand
from automation.services import journeys_run_due, journeys_triggers_apply


class Command(AuditedCommand):
    help = "Enrol contacts found by the journeys' triggers and run the due contact-steps."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running, looking again every --every s.")
        parser.add_argument("--every", type=float, default=1.0, help="Seconds between looks when idle (--loop).")
        parser.add_argument("--batch", type=int, default=1000, help="Contact-steps claimed per transaction.")
        parser.add_argument("--no-triggers", action="store_true", help="Only run due steps.")

    def handle(self, *args, loop: bool, every: float, batch: int, no_triggers: bool, **options):
        if batch < 1 or every <= 0:
            self.stderr.write("--batch must be at least 1 and --every above 0.")
            raise SystemExit(2)
        while True:
            found = {} if no_triggers else journeys_triggers_apply()
            report = journeys_run_due(size=batch)
            if report.steps or any(found.values()):
                self.stdout.write(f"enrolled {found.get('enrolled', 0)}, exited {found.get('exited', 0)}, "
                                  f"steps {report.steps}")
            if not loop:
                return
            if not report.steps:
                time.sleep(every)
