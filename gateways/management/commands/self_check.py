"""Which providers answer, and what to do about those that do not.

Exit status 1 when a capability in use (some work needs it, or it has an enabled real account) has no
healthy real provider: placeholders, manual channels and accounts never probed do not count.
"""

import json
import time

from django.core.management.base import CommandError

from aicmo_site.management.arguments import whole_number
from aicmo_site.management.base import AuditedCommand
from gateways.health import status_label
from gateways.models import HealthStatus, ProviderAccount
from gateways.selectors import CapabilityReport, health_document, health_report
from gateways.services import account_probe

COLUMNS = (("Capability", 20), ("Provider", 28), ("Status", 14), ("Success", 8), ("Latency", 9),
           ("Last error", 40), ("Advice or note", 0))


def _cell(text: str, width: int) -> str:
    if not width:
        return text
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.ljust(width)


def _rows(reports: list[CapabilityReport]):
    for report in reports:
        if not report.providers:
            yield (report.label, "-", "not configured" if report.in_use else "unused", "", "", "",
                   "no provider configured")
        for provider in report.providers:
            rate = "" if provider.success_rate is None else f"{provider.success_rate:.0%}"
            latency = "" if provider.latency_ms is None else f"{provider.latency_ms:.0f} ms"
            probe = provider.probe or {}
            error = provider.last_error
            if probe.get("probed", True) and probe and not probe["ok"]:
                error = f"probe: {probe['detail']}"
            note = provider.advice or probe.get("advice", "")
            if provider.fallback and not note:
                note = probe.get("detail") or "calls no one"
            yield (report.label, provider.name, status_label(provider.status), rate, latency,
                   error.replace("\n", " "), note)


def _failing(report: CapabilityReport) -> str:
    needed = f", needed by {'; '.join(report.uses)}" if report.uses else ""
    return f"{report.label} ({status_label(report.status)}{needed})"


class Command(AuditedCommand):
    help = "Show each capability's providers with status, success rate, latency, last error and advice."

    def add_arguments(self, parser):
        parser.add_argument("--status", action="store_true", help="Show stored health; call no provider.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
        parser.add_argument("--watch", type=float, metavar="SECONDS", help="Refresh every SECONDS until interrupted.")
        parser.add_argument("--count", type=whole_number(0, 1_000_000), default=0,
                            help="With --watch: stop after this many refreshes.")

    def handle(self, *args, **options):
        if options["watch"] is not None and options["watch"] <= 0:
            raise CommandError("--watch needs a number of seconds above zero.")
        refreshes, failing = 0, []
        try:
            while True:
                failing = self._check_once(probe=not options["status"], as_json=options["json"])
                refreshes += 1
                if options["watch"] is None or (options["count"] and refreshes >= options["count"]):
                    break
                time.sleep(options["watch"])
        except KeyboardInterrupt:
            pass
        if failing:
            raise CommandError(f"No healthy real provider for: {', '.join(failing)}.")

    def _check_once(self, *, probe: bool, as_json: bool) -> list[str]:
        """Print one report; returns the capabilities in use without a healthy provider."""
        probes = {}
        if probe:
            for account in ProviderAccount.objects.filter(enabled=True).order_by("capability", "priority"):
                probes[account.pk] = account_probe(account=account)
        reports = health_report(probes=probes)
        document = health_document(reports)
        if as_json:
            self.stdout.write(json.dumps(document, indent=2))
        else:
            self._table(reports)
        return [_failing(report) for report in reports if not report.ok]

    def _table(self, reports: list[CapabilityReport]) -> None:
        widths = [width for _, width in COLUMNS]
        for row in [tuple(title for title, _ in COLUMNS), *_rows(reports)]:
            self.stdout.write(" ".join(_cell(value, width) for value, width in zip(row, widths, strict=True)).rstrip())
        if all(report.ok for report in reports):
            if any(report.in_use for report in reports):
                self.stdout.write(self.style.SUCCESS("Every capability in use has a healthy provider."))
            else:
                self.stdout.write("No capability is in use yet.")
        idle = [f"{report.label} ({status_label(report.status)})" for report in reports
                if not report.in_use and report.status != HealthStatus.HEALTHY]
        if idle:
            self.stdout.write(f"Nothing needs these yet, and none has a healthy real provider: {', '.join(idle)}.")
