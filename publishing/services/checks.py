"""The Admin's choice of which failing checks block approval, and the refusal it leads to."""

from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import DomainError
from aicmo_site.roles import holds_admin_role
from publishing.checks import FAIL, CheckResult, content_checks
from publishing.choices import CheckKind, ContentKind
from publishing.links import content_links, links_check
from publishing.models import BlockingCheck, Content, LinkReport, ReadabilityTarget


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


@transaction.atomic
def readability_targets_set(*, grades: dict[str, int], by) -> dict[str, int]:
    """The highest grade level each kind of content may need before its readability check warns."""
    if not holds_admin_role(by):
        raise DomainError("Only an Admin sets the readability targets.", code="not_admin")
    unknown = sorted(set(grades) - set(ContentKind.values))
    if unknown:
        raise DomainError(f"Unknown content kinds: {', '.join(unknown)}.", code="unknown_kind")
    for kind, grade in grades.items():
        target = ReadabilityTarget.objects.filter(kind=kind).first() or ReadabilityTarget(kind=kind)
        target.max_grade, target.chosen_by = grade, by
        target.full_clean()
        target.save()
    return grades


def approval_blockers(content: Content) -> list[CheckResult]:
    """The failing checks of the content that an Admin made blocking (none by default)."""
    blocking = set(BlockingCheck.objects.values_list("key", flat=True))
    if not blocking:
        return []
    return [result for result in content_checks(content) if result.outcome == FAIL and result.key in blocking]


def content_links_check_request(*, content: Content) -> LinkReport:
    """Marks the content's links as not checked yet and hands the check to a worker once this commits."""
    report, _ = LinkReport.objects.update_or_create(
        content=content, defaults={"status": LinkReport.Status.PENDING, "requested_at": timezone.now()}
    )
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task("publishing.tasks.content_links_check", content.pk, group="links"))
    return report


def content_links_check_run(*, content_id: int) -> LinkReport | None:
    """Fetches every link of the content and stores the outcome; running it twice stores the same answers
    (a day's cache). No transaction is held while the links are fetched."""
    content = Content.objects.prefetch_related("versions").filter(pk=content_id).first()
    if content is None:
        return None
    started = timezone.now()
    results = [result.as_dict() for result in links_check(content_links(content))]
    report, _ = LinkReport.objects.update_or_create(
        content=content,
        defaults={"status": LinkReport.Status.DONE, "checked_at": timezone.now(), "results": results},
        create_defaults={
            "status": LinkReport.Status.DONE,
            "checked_at": timezone.now(),
            "results": results,
            "requested_at": started,
        },
    )
    return report
