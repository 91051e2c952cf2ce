"""Content and its approval workflow: draft → in review → changes requested / approved → scheduled →
published → archived. Every step and every edit writes a ContentEvent."""

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.transitions import Action, Change, Workflow, available_action_names
from publishing import conf
from publishing.choices import (
    CONTENT_TRANSITIONS,
    EDITABLE_WITHOUT_REVIEW,
    RESCHEDULABLE_JOB,
    ContentStatus,
    ReviewStatus,
)
from publishing.models import Content, ContentEvent, PublishingJob, Review
from publishing.services.attachments import media_replace
from publishing.services.checks import approval_blockers, content_links_check_request

APPROVE_PERMISSION = "publishing.approve_content"
EDITABLE_FIELDS = ("kind", "title", "slug", "summary", "body", "tags", "categories", "link_url", "urgent")


def _unique_slug(title: str, *, exclude_pk=None) -> str:
    base = slugify(title)[:180] or "content"
    slug, n = base, 1
    taken = Content.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _recorded(change: Change) -> None:
    ContentEvent.objects.create(content=change.obj, action=change.extra.get("action") or change.target,
                                from_status=change.source, to_status=change.target, by=change.by, note=change.note,
                                changes=change.extra.get("changes") or {})


def _may_review(content: Content, user) -> bool:
    return content.author_id != user.pk or conf.allow_self_approval()


_CHANGE = "publishing.change_content"
_OPEN = set(ContentStatus.values) - {ContentStatus.PUBLISHED, ContentStatus.ARCHIVED}
CONTENT_WORKFLOW = Workflow(
    model=Content, transitions=CONTENT_TRANSITIONS, terminal=(), noun="content item", audit=_recorded,
    audit_model=ContentEvent,
    actions=[
        Action("edit", "Edit", permission=_CHANGE, sources=_OPEN),
        Action("submit", "Submit for review", to=ContentStatus.IN_REVIEW, permission=_CHANGE,
               sources={ContentStatus.DRAFT, ContentStatus.CHANGES_REQUESTED}),
        Action("approve", "Approve", to=ContentStatus.APPROVED, permission=APPROVE_PERMISSION,
               condition=_may_review, refusal="You cannot review your own content."),
        Action("request_changes", "Request changes", to=ContentStatus.CHANGES_REQUESTED,
               permission=APPROVE_PERMISSION, condition=_may_review, refusal="You cannot review your own content.",
               sources={ContentStatus.IN_REVIEW}),
        Action("archive", "Archive", to=ContentStatus.ARCHIVED, permission=_CHANGE),
    ],
)


def content_transition(*, content: Content, to: str, by=None, action: str = "", note: str = "",
                       changes: dict | None = None, locked: bool = False) -> Content:
    """The one way content changes status: checks the table, saves, writes the audit row. `locked`: the
    caller read `content` for update."""
    fields = {"published_at": content.published_at or timezone.now()} if to == ContentStatus.PUBLISHED else {}
    return CONTENT_WORKFLOW.transition(content, to, by=by, note=note, fields=fields, locked=locked,
                                       action=action, changes=changes)


def _open_review(content: Content, by) -> Review:
    return Review.objects.create(content=content, requested_by=by)


def _close_review(content: Content, *, status: str, by, note: str) -> None:
    Review.objects.filter(content=content, status=ReviewStatus.OPEN).update(
        status=status, decided_by=by, decided_at=timezone.now(), note=note
    )


@transaction.atomic
def content_create(*, by, title: str, body: str = "", summary: str = "", kind: str = "blog_post",
                   tags: list | None = None, categories: list | None = None, link_url: str = "",
                   slug: str = "", urgent: bool = False, media=()) -> Content:
    content = Content(
        author=by, title=title, body=body, summary=summary, kind=kind, tags=list(tags or []),
        categories=list(categories or []), link_url=link_url, slug=slug or _unique_slug(title), urgent=urgent,
    )
    content.full_clean()
    content.save()
    ContentEvent.objects.create(content=content, action="created", to_status=content.status, by=by)
    media_replace(holder=content, assets=media, used_in_kind="content")
    return content


def _send_back_to_review(content: Content, *, by, what: str, changes: dict) -> None:
    _close_review(content, status=ReviewStatus.WITHDRAWN, by=by, note="")
    content_transition(content=content, to=ContentStatus.IN_REVIEW, by=by, action="edited_after_approval",
                       note=f"{what} changed after approval; it needs a new review.", changes=changes)
    _open_review(content, by)


def content_mark_edited(*, content: Content, by, what: str, changes: dict) -> None:
    """Approved or scheduled content that changes goes back to review; the edit is always recorded."""
    if content.status in (ContentStatus.PUBLISHED, ContentStatus.ARCHIVED):
        raise ConflictError(f"{ContentStatus(content.status).label} content cannot be edited.", code="not_editable")
    if content.status in EDITABLE_WITHOUT_REVIEW:
        ContentEvent.objects.create(content=content, action="edited", from_status=content.status,
                                    to_status=content.status, by=by, note=what, changes=changes)
    else:
        _send_back_to_review(content, by=by, what=what, changes=changes)


@transaction.atomic
def content_update(*, content: Content, by, media=None, **fields) -> Content:
    """Change the content's fields and, when `media` is given, make its library assets exactly those."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.", code="unknown_fields")
    content = Content.objects.select_for_update().get(pk=content.pk)
    changes = {}
    for name, value in fields.items():
        before = getattr(content, name)
        if before != value:
            changes[name] = [before, value]
            setattr(content, name, value)
    if media is not None:
        changes.update(media_replace(holder=content, assets=media, used_in_kind="content") or {})
    if not changes:
        return content
    content.full_clean()
    content.save()
    if "urgent" in changes:
        _jobs_follow_urgency(content)
    if set(changes) == {"urgent"}:
        # Urgency changes when its posts go, not what they say: no new review.
        ContentEvent.objects.create(content=content, action="edited", from_status=content.status,
                                    to_status=content.status, by=by, changes=changes,
                                    note="Marked urgent" if content.urgent else "No longer urgent")
    else:
        content_mark_edited(content=content, by=by, what="Content", changes=changes)
    return content


def _jobs_follow_urgency(content: Content) -> int:
    """The content's posts that no dispatcher holds yet (waiting, or paused) take its urgency: urgency
    is copied to jobs when a campaign is activated, and a change after that must reach them too."""
    return PublishingJob.objects.filter(content=content, status__in=RESCHEDULABLE_JOB).exclude(
        urgent=content.urgent).update(urgent=content.urgent, updated_at=timezone.now())


@transaction.atomic
def content_submit(*, content: Content, by, note: str = "") -> Content:
    content = Content.objects.select_for_update().get(pk=content.pk)
    if content.status not in (ContentStatus.DRAFT, ContentStatus.CHANGES_REQUESTED):
        raise ConflictError("Only a draft or content with requested changes can be submitted.", code="not_submittable")
    if not content.body.strip() and not content.summary.strip():
        raise DomainError("Write a body or a summary before submitting.", code="empty_content")
    content_transition(content=content, to=ContentStatus.IN_REVIEW, by=by, action="submitted", note=note)
    _open_review(content, by)
    # Fetching links is slow: a worker checks them while the content waits for its approver.
    content_links_check_request(content=content)
    return content


def _check_reviewer(content: Content, by) -> None:
    if not by.has_perm(APPROVE_PERMISSION):
        raise DomainError("Only an Approver can approve content or request changes.", code="not_approver",
                          status=403)
    if not _may_review(content, by):
        raise DomainError("You cannot review your own content.", code="self_approval", status=403)


@transaction.atomic
def content_approve(*, content: Content, by, note: str = "") -> Content:
    content = Content.objects.select_for_update().get(pk=content.pk)
    _check_reviewer(content, by)
    if content.status != ContentStatus.IN_REVIEW:
        raise ConflictError("Only content in review can be approved.", code="not_in_review")
    blockers = approval_blockers(content)
    if blockers:
        reasons = " ".join(f"{result.label}: {result.reason}" for result in blockers)
        raise ConflictError(f"Approval is blocked by failing checks. {reasons}", code="blocked_by_checks",
                            extra={"checks": [result.key for result in blockers]})
    _close_review(content, status=ReviewStatus.APPROVED, by=by, note=note)
    return content_transition(content=content, to=ContentStatus.APPROVED, by=by, action="approved", note=note)


@transaction.atomic
def content_request_changes(*, content: Content, by, note: str) -> Content:
    if not note.strip():
        raise DomainError("Say what should change.", code="note_required", extra={"field": "note"})
    content = Content.objects.select_for_update().get(pk=content.pk)
    _check_reviewer(content, by)
    if content.status != ContentStatus.IN_REVIEW:
        raise ConflictError("Changes can only be requested on content in review.", code="not_in_review")
    _close_review(content, status=ReviewStatus.CHANGES_REQUESTED, by=by, note=note)
    return content_transition(content=content, to=ContentStatus.CHANGES_REQUESTED, by=by,
                              action="changes_requested", note=note)


@transaction.atomic
def content_archive(*, content: Content, by, note: str = "") -> Content:
    content = Content.objects.select_for_update().get(pk=content.pk)
    _close_review(content, status=ReviewStatus.WITHDRAWN, by=by, note="Archived")
    return content_transition(content=content, to=ContentStatus.ARCHIVED, by=by, action="archived", note=note)


def available_actions(content: Content, user) -> list[str]:
    """What this person may do to this content now; the admin and back office draw buttons from it."""
    return available_action_names(content, user)
