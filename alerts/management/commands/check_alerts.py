
from aicmo_site.management.base import AuditedCommand
from alerts.services import alerts_check


class Command(AuditedCommand):
    help = "Evaluate the alert rules once: open, remind and resolve alerts and send their notices."

    def handle(self, *args, **options):
        report = alerts_check()
        for title in report.opened:
            self.stdout.write(f"Opened: {title}")
        for title in report.resolved:
            self.stdout.write(f"Resolved: {title}")
        for key, error in report.rule_errors.items():
            self.stderr.write(f"Rule {key} could not be evaluated: {error}")
        self.stdout.write(f"{len(report.opened)} opened, {len(report.resolved)} resolved, {report.still_open} still "
                          f"open; {report.notices_sent} notices sent, {report.notices_failed} failed.")
