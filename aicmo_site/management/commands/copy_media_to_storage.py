"""Copies a local media folder (MEDIA_ROOT of a one-machine site) into the bucket MEDIA_STORAGE_URL
names, for the move to several machines.

Safe to run again and to interrupt: a file already in the bucket with the same size is skipped, so a
second run copies only what the first did not finish. A file that cannot be read or sent is reported
and the others are still copied; the command then ends with a non-zero status.
"""

from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand

PROGRESS_EVERY = 100


class Command(AuditedCommand):
    help = "Copy a local media folder into the media bucket (MEDIA_STORAGE_URL); skips files already there."

    def add_arguments(self, parser):
        parser.add_argument("--source", default=None,
                            help="the local media folder (default: MEDIA_ROOT)")
        parser.add_argument("--dry-run", action="store_true", help="say what would be copied, copy nothing")

    def handle(self, *args, source=None, dry_run=False, **options):
        folder = Path(source or settings.MEDIA_ROOT)
        if not hasattr(default_storage, "stored_sizes"):
            raise CommandError("Media are kept on this machine's disk: set MEDIA_STORAGE_URL to the bucket first.")
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        files = sorted(path for path in folder.rglob("*") if path.is_file())
        stored = default_storage.stored_sizes()
        todo = [path for path in files if stored.get(path.relative_to(folder).as_posix()) != path.stat().st_size]
        total_bytes = sum(path.stat().st_size for path in todo)
        self.stdout.write(f"{len(files)} files in {folder}: {len(files) - len(todo)} already in the bucket, "
                          f"{len(todo)} to copy ({total_bytes / 1_000_000:.1f} MB).")
        if dry_run:
            for path in todo:
                self.stdout.write(f"  would copy {shown(path.relative_to(folder).as_posix())}")
            return
        copied, failed = 0, []
        for position, path in enumerate(todo, start=1):
            name = path.relative_to(folder).as_posix()
            try:
                self._copy(path, name, replace=name in stored)
            except (OSError, UnicodeError, BotoCoreError, ClientError, CommandError) as error:
                failed.append(name)
                self.stderr.write(f"  {shown(name)}: not copied ({error})")
            else:
                copied += 1
            if position % PROGRESS_EVERY == 0 or position == len(todo):
                self.stdout.write(f"  {position}/{len(todo)} files ({position * 100 // len(todo)}%)")
        self.stdout.write(f"Copied {copied} files; {len(failed)} failed.")
        if failed:
            raise CommandError(f"{len(failed)} files were not copied; run the command again to retry them.")

    def _copy(self, path: Path, name: str, *, replace: bool) -> None:
        # A different size under the same name is an earlier copy of another version: the local file,
        # which the database points to, wins.
        if replace:
            default_storage.delete(name)
        with path.open("rb") as handle:
            saved = default_storage.save(name, File(handle, name=path.name))
        if saved != name:
            default_storage.delete(saved)
            raise CommandError(f"the bucket renamed it to {saved}")


def shown(name: str) -> str:
    """A file name printable on any terminal, even one written in another encoding long ago."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
