from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from knox.models import AuthToken

from aicmo_site.management.base import AuditedCommand


class Command(AuditedCommand):
    help = "Create an API token for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}. Create one first (manage.py createsuperuser).")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate it before giving it a token.")
        instance, token = AuthToken.objects.create(user=user)
        expiry = instance.expiry.isoformat() if instance.expiry else "never"
        self.stdout.write(token)
        self.stderr.write(f"Token for {username} (expires {expiry}). Send it as 'Authorization: Token <token>'.")
