from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand
from crm.services.weather import weather_refresh


class Command(AuditedCommand):
    help = ("Read the weather in every city contacts live in now, as the hourly schedule does, within "
            "CRM_WEATHER_CALLS_PER_RUN calls; prints what was refreshed and what was skipped.")

    def handle(self, *args, **options):
        report = weather_refresh()
        summary = (f"{report['refreshed']} of {report['cities']} cities refreshed in {report['calls']} calls "
                   f"({report['added']} new, {report['geocoded']} geocoded, {report['not_found']} not found), "
                   f"{report['skipped']} skipped")
        if report["skipped_cities"]:
            summary += f": {', '.join(report['skipped_cities'])}"
        if report["stopped"]:
            raise CommandError(f"{report['stopped']} So far: {summary}.")
        self.stdout.write(f"Weather refreshed: {summary}.")
