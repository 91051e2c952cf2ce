"""Why was this address suppressed? Classifies raw received messages (RFC 822 files, as saved from
a mail client or the bounce mailbox) the way the inbox poll does: kind (bounce, complaint,
auto-reply, reply, other), failed recipients, class, status code and reason.

Exit status 1 when a file cannot be read; the others are still classified.
"""

import json

from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand
from gateways.mail.classify import classify_message

MAX_BYTES = 50 * 1024 * 1024  # a bounce past this is no bounce: refuse rather than fill memory


class Command(AuditedCommand):
    help = "Classify raw email files as bounce, complaint, auto-reply, reply or other."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="A raw message (.eml, RFC 822).")
        parser.add_argument("--json", action="store_true", dest="as_json", help="One JSON object a line: file, kind, "
                            "recipients, class, status, reason.")

    def handle(self, *args, files, as_json: bool = False, **options):
        unreadable = []
        for path in files:
            try:
                with open(path, "rb") as handle:
                    raw = handle.read(MAX_BYTES + 1)
                if len(raw) > MAX_BYTES:
                    raise OSError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
            except OSError as exc:
                unreadable.append(path)
                self.stderr.write(f"{path}: cannot be read: {getattr(exc, 'strerror', None) or exc}")
                continue
            self.stdout.write(self._line(path, classify_message(raw).as_dict(), as_json=as_json))
        if unreadable:
            raise CommandError(f"{len(unreadable)} of {len(files)} files could not be read.")

    @staticmethod
    def _line(path: str, found: dict, *, as_json: bool) -> str:
        if as_json:
            return json.dumps({"file": path, **found}, ensure_ascii=False)
        parts = [path, found["kind"]]
        if found["recipients"]:
            parts.append(", ".join(found["recipients"]))
        parts += [value for value in (found["class"], found["status"]) if value]
        line = "\t".join(parts)
        return f"{line}\t{found['reason']}" if found["reason"] else line
