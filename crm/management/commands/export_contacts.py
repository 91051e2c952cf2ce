import sys

from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand
from crm.exports import contacts_csv_rows, csv_lines
from crm.models import Segment
from crm.selectors import contacts_visible, segment_queryset


class Command(AuditedCommand):
    help = "Export contacts (all, or one segment's members) to a CSV file that imports back as it is."

    def add_arguments(self, parser):
        parser.add_argument("file", help='Where to write the CSV; "-" writes to standard output')
        parser.add_argument("--segment", help="Name of a saved segment")

    def handle(self, *args, **options):
        contacts = contacts_visible()
        if options["segment"]:
            segment = Segment.objects.filter(name=options["segment"]).first()
            if segment is None:
                known = ", ".join(Segment.objects.values_list("name", flat=True)[:20]) or "none"
                raise CommandError(f"No segment named {options['segment']!r}; saved segments: {known}.")
            contacts = segment_queryset(segment)
        if options["file"] == "-":
            sys.stdout.writelines(csv_lines(contacts_csv_rows(contacts)))
            return
        try:
            target = open(options["file"], "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot write {options['file']}: {exc.strerror}.")
        with target:
            # One line per contact after the byte-order mark and the header.
            lines = sum(1 for line in csv_lines(contacts_csv_rows(contacts)) if target.write(line) is not None)
        self.stdout.write(f"Exported {lines - 2} contacts to {options['file']}.")
