"""The Admin's choice of which failing checks block approval, and the refusal it leads to."""

from django.db import transaction

from aicmo_site.errors import DomainError
from aicmo_site.roles import holds_admin_role
from publishing.checks import FAIL, CheckResult, content_checks
from publishing.choices import CheckKind
from publishing.models import BlockingCheck, Content


@transaction.atomic
def blocking_checks_set(*, keys: list[str], by) -> list[str]:
    """Makes exactly these checks block approval; the others only inform the approver."""
    if not holds_admin_role(by):
        raise DomainError("Only an Admin chooses which checks block approval.", code="not_admin")
    unknown = sorted(set(keys) - set(CheckKind.values))
    if unknown:
        raise DomainError(f"Unknown checks: {', '.join(unknown)}.", code="unknown_check", extra={"field": "keys"})
    BlockingCheck.objects.exclude(key__in=keys).delete()
    have = set(BlockingCheck.objects.values_list("key", flat=True))
    BlockingCheck.objects.bulk_create([BlockingCheck(key=key, chosen_by=by) for key in set(keys) - have])
    return sorted(keys)


def approval_blockers(content: Content) -> list[CheckResult]:
    """The failing checks of the content that an Admin made blocking (none by default)."""
    blocking = set(BlockingCheck.objects.values_list("key", flat=True))
    if not blocking:
        return []
    return [result for result in content_checks(content) if result.outcome == FAIL and result.key in blocking]
