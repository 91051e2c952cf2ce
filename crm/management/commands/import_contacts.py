from pathlib import Path

from django.core.files import File
from django.core.management.base import CommandError

from aicmo_site.errors import DomainError
from aicmo_site.management.base import AuditedCommand
from aicmo_site.storage import stored_location
from crm.choices import ImportPolicy, RunStatus
from crm.imports import import_run_create, import_run_execute, import_run_start
from crm.imports.mapping import mapping_from_pairs


class Command(AuditedCommand):
    help = "Import contacts from a CSV file (headers mapped automatically; --map to choose by hand)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file: UTF-8 (with or without BOM) or Latin-1, comma or semicolon")
        parser.add_argument("--tag", default="", help="Tag added to every contact of the file")
        policy = parser.add_mutually_exclusive_group()
        policy.add_argument("--update", dest="policy", action="store_const", const=ImportPolicy.UPDATE,
                            help="Existing contacts get the file's values, except fields a person typed (default)")
        policy.add_argument("--skip-existing", dest="policy", action="store_const",
                            const=ImportPolicy.SKIP_EXISTING, help="Existing contacts are left as they are")
        parser.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                            help='Map a column by hand, e.g. --map "Mail=email" --map "Plan=custom:plan"')
        parser.set_defaults(policy=ImportPolicy.UPDATE)

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            mapping = mapping_from_pairs(options["map"]) or None
            with path.open("rb") as handle:
                run = import_run_create(upload=File(handle, name=path.name), original_name=path.name,
                                        policy=options["policy"], tag=options["tag"], mapping=mapping)
            run = import_run_start(run=run, background=True)
        except DomainError as exc:
            raise CommandError(self._message(exc))
        self.stdout.write(f"Importing {path.name} (import #{run.pk}, about {run.total_rows} rows, "
                          f"{run.encoding}, delimiter {run.delimiter!r})")
        for column, field in run.mapping.items():
            self.stdout.write(f"  {column} → {field or '(ignored)'}")
        run = import_run_execute(run.pk, progress=self._progress)
        self.stdout.write(
            f"{run.get_status_display()}: {run.processed_rows} rows, {run.created_count} created, "
            f"{run.updated_count} updated, {run.skipped_count} skipped, {run.failed_count} failed."
        )
        if run.error_report:
            self.stdout.write(f"Error report: {stored_location(run.error_report)}")
        if run.status != RunStatus.COMPLETED:
            raise CommandError(run.error or "The import did not complete.")

    def _progress(self, run):
        self.stdout.write(f"  {run.processed_rows} rows ({run.progress}%)")

    @staticmethod
    def _message(exc: DomainError) -> str:
        fields = exc.extra.get("fields") if exc.extra else None
        if isinstance(fields, dict) and fields:
            return exc.message.split(":")[0] + ":\n" + "\n".join(f"  {k}: {v}" for k, v in fields.items())
        return exc.message
