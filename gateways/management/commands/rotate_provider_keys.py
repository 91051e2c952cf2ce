from django.core.management.base import CommandError

from aicmo_site.management.base import AuditedCommand
from gateways.crypto import CredentialsUnreadable
from gateways.services import credentials_reencrypt_all


class Command(AuditedCommand):
    help = "Re-encrypt every provider account's credentials with the first FIELD_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        try:
            count = credentials_reencrypt_all()
        except CredentialsUnreadable as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"Re-encrypted the credentials of {count} provider account(s).")
