"""Demo users, one per role, so `make run` shows what each role sees."""

from django.contrib.auth import get_user_model

from aicmo_site.roles import ANALYST, APPROVER, MARKETER, user_role_assign

DEMO_PASSWORD = "demo-password"  # development data only; seed_demo refuses nothing else
DEMO_USERS = (("marketer", MARKETER), ("approver", APPROVER), ("analyst", ANALYST))


def seed_users() -> list[str]:
    User = get_user_model()
    lines = []
    for username, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com", "first_name": username.title()}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user_role_assign(user=user, role=role)
        lines.append(f"user {username} ({role}){' created' if created else ''}")
    return lines
