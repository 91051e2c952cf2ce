import contextlib
import time

from django.db import DatabaseError, reset_queries

from aicmo_site.management.base import AuditedCommand
from automation.conf import runner_loop_alive_seconds
from automation.services import journeys_run_batch, journeys_triggers_apply
from automation.services.loops import runner_loop_name, runner_loop_seen, runner_loop_stopped
from automation.services.runner import RunReport

# Contact-steps claimed per transaction by a loop: a batch of 5,000 costs about a quarter less CPU per
# contact than the queue tasks' 1,000, this process and PostgreSQL's together (bench notes, "Journeys").
BATCH = 5000


class Command(AuditedCommand):
    help = "Enrol contacts found by the journeys' triggers and run the due contact-steps."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running, looking again every --every s.")
        parser.add_argument("--every", type=float, default=1.0, help="Seconds between looks when idle (--loop).")
        parser.add_argument("--batch", type=int, default=BATCH, help="Contact-steps claimed per transaction.")
        parser.add_argument("--no-triggers", action="store_true", help="Only run due steps.")

    def handle(self, *args, loop: bool, every: float, batch: int, no_triggers: bool, **options):
        if batch < 1 or every <= 0:
            self.stderr.write("--batch must be at least 1 and --every above 0.")
            raise SystemExit(2)
        name = runner_loop_name() if loop else None
        try:
            self._run(loop=loop, every=every, batch=batch, no_triggers=no_triggers, name=name)
        except KeyboardInterrupt:
            # run_all stops its processes with SIGINT: the batch in hand is rolled back, taken again later.
            return
        finally:
            if name:
                # With the database gone the worker's runs take over anyway, once the heartbeat is stale.
                with contextlib.suppress(DatabaseError):
                    runner_loop_stopped(name=name)

    def _run(self, *, loop: bool, every: float, batch: int, no_triggers: bool, name: str | None) -> None:
        beat_every, next_beat = runner_loop_alive_seconds() / 6, 0.0
        while True:
            found = {} if no_triggers else journeys_triggers_apply()
            report = RunReport()
            taken = True
            while taken:
                if name and time.monotonic() >= next_beat:
                    # Between batches, so a loop stuck in one falls silent too and the worker's runs step in.
                    runner_loop_seen(name=name)
                    next_beat = time.monotonic() + beat_every
                # Django forgets the statements it logs with DEBUG on only when a request starts, and a loop
                # serves none: without this a runner kept its last 9,000 statements' text.
                reset_queries()
                taken = journeys_run_batch(size=batch, report=report)
            if report.steps or any(found.values()):
                self.stdout.write(f"enrolled {found.get('enrolled', 0)}, exited {found.get('exited', 0)}, "
                                  f"steps {report.steps}")
            if not loop:
                return
            if not report.steps:
                time.sleep(every)
