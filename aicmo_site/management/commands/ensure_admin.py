import os

from django.contrib.auth import get_user_model

from aicmo_site.management.base import AuditedCommand
from aicmo_site.roles import ADMIN, user_role_assign


class Command(AuditedCommand):
    help = "Make sure an administrator exists (ADMIN_USERNAME / ADMIN_PASSWORD, default admin / admin)."

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("ADMIN_USERNAME", "admin")
        password = os.environ.get("ADMIN_PASSWORD", "admin")
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True, "email": f"{username}@example.com"}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(f"Created administrator {username!r} with password {password!r}: change it.")
        else:
            self.stdout.write(f"Administrator {username!r} exists (password unchanged).")
        user_role_assign(user=user, role=ADMIN)
