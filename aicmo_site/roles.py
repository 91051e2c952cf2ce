"""The four roles, as Django groups, and the permissions each holds.

Permissions are derived from rules rather than listed, so a model added by any app is covered
the next time migrations run (post_migrate calls roles_sync).
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

ADMIN = "Admin"
MARKETER = "Marketer"
APPROVER = "Approver"
ANALYST = "Analyst"
ROLES = (ADMIN, MARKETER, APPROVER, ANALYST)

DOMAIN_APPS = ("crm", "publishing", "media", "automation", "analytics", "gateways", "alerts")
# What Marketers change day to day; gateways (provider accounts and their secrets) stay with Admins.
MARKETER_APPS = ("crm", "publishing", "media", "automation")
SITE_VIEWS = ("view_backgroundrun",)
# Custom permissions whose codename starts with one of these belong to reviewers, not authors.
APPROVAL_PREFIXES = ("approve_", "review_")


def _role_permissions(role: str):
    perms = Permission.objects.select_related("content_type")
    if role == ADMIN:
        return perms.all()
    domain = perms.filter(content_type__app_label__in=DOMAIN_APPS)
    # Every role follows the background work its people start (aicmo_site.BackgroundRun).
    view = domain.filter(codename__startswith="view_") | perms.filter(content_type__app_label="aicmo_site",
                                                                      codename__in=SITE_VIEWS)
    if role == ANALYST:
        return view
    approval = domain.none()
    for prefix in APPROVAL_PREFIXES:
        approval = approval | domain.filter(codename__startswith=prefix)
    if role == APPROVER:
        return view | approval
    if role == MARKETER:
        editing = domain.filter(content_type__app_label__in=MARKETER_APPS)
        for prefix in APPROVAL_PREFIXES:
            editing = editing.exclude(codename__startswith=prefix)
        return view | editing
    raise ValueError(f"Unknown role {role!r}")


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create the role groups and give each exactly its permissions; idempotent."""
    counts = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = list(_role_permissions(role).values_list("pk", flat=True).distinct())
        group.permissions.set(wanted)
        counts[role] = len(wanted)
    return counts


@transaction.atomic
def user_role_assign(*, user, role: str) -> None:
    """Gives a user a role. Every role works in the Django admin too (approval queues, asset
    libraries), limited there by the same permissions, so role holders get staff status."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}.")
    user.groups.add(Group.objects.get(name=role))
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def holds_admin_role(user) -> bool:
    """Provider accounts and other Admin-only objects: the API and the Django admin both ask this."""
    return bool(user and user.is_authenticated and user.is_active
                and (user.is_superuser or user.groups.filter(name=ADMIN).exists()))


def user_roles(user) -> list[str]:
    if not user.is_authenticated:
        return []
    names = [g.name for g in user.groups.all() if g.name in ROLES]
    if user.is_superuser and ADMIN not in names:
        names.insert(0, ADMIN)
    return names
