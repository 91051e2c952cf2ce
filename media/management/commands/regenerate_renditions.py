from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand
from media.choices import AssetKindChoices
from media.models import Asset, Library
from media.services import asset_renditions_generate

BAR_WIDTH = 30


class Command(AuditedCommand):
    help = "Make the renditions of every image again (or only those outdated), with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--library", help="Only the images of this library (its name).")
        parser.add_argument("--force", action="store_true", help="Remake renditions even when they are current.")

    def handle(self, *args, library=None, force=False, **options):
        images = Asset.objects.filter(kind=AssetKindChoices.IMAGE)
        if library:
            found = Library.objects.filter(name=library).first()
            if found is None:
                names = ", ".join(Library.objects.values_list("name", flat=True)) or "none yet"
                raise CommandError(f"No library is named {library!r} (libraries: {names}).")
            images = images.filter(library=found)
        ids = list(images.order_by("pk").values_list("pk", flat=True))
        written, failures = 0, []
        for done, asset_id in enumerate(ids, start=1):
            try:
                written += asset_renditions_generate(asset_id=asset_id, force=force)
            except Exception as error:  # one broken file must not stop the others
                failures.append(f"asset {asset_id}: {error}")
            self._progress(done, len(ids))
        self.stdout.write("")
        self.stdout.write(f"{len(ids)} image(s) checked, {written} rendition(s) written, {len(failures)} failed.")
        for line in failures:
            self.stderr.write(line)
        if failures:
            raise CommandError(f"{len(failures)} image(s) could not be rendered.")

    def _progress(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total
        self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}", ending="")
        self.stdout.flush()
