import pytest
from django.db import IntegrityError

from aicmo_site.errors import DomainError
from aicmo_site.roles import APPROVER, MARKETER
from publishing.choices import ContentStatus, ReviewStatus
from publishing.models import ContentEvent, Review
from publishing.services import (
    available_actions,
    content_approve,
    content_archive,
    content_create,
    content_request_changes,
    content_submit,
    content_update,
    version_update,
    versions_generate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer(make_user):
    return make_user("writer", role=MARKETER)


@pytest.fixture
def approver(make_user):
    return make_user("approver", role=APPROVER)


@pytest.fixture
def draft(writer):
    return content_create(by=writer, title="Spring launch", body="We shipped **faster imports**.",
                          tags=["product news"])


def test_submit_opens_one_review_and_records_who(draft, writer):
    content_submit(content=draft, by=writer, note="ready")
    draft.refresh_from_db()
    assert draft.status == ContentStatus.IN_REVIEW
    assert Review.objects.filter(content=draft, status=ReviewStatus.OPEN).count() == 1
    event = ContentEvent.objects.filter(content=draft, action="submitted").get()
    assert (event.by, event.from_status, event.to_status, event.note) == (writer, "draft", "in_review", "ready")


def test_database_refuses_a_second_open_review(draft, writer):
    content_submit(content=draft, by=writer)
    with pytest.raises(IntegrityError):
        Review.objects.create(content=draft, requested_by=writer)


def test_approver_approves_with_notes(draft, writer, approver):
    content_submit(content=draft, by=writer)
    content_approve(content=draft, by=approver, note="Good to go")
    draft.refresh_from_db()
    assert draft.status == ContentStatus.APPROVED
    review = Review.objects.get(content=draft)
    assert (review.status, review.decided_by, review.note) == (ReviewStatus.APPROVED, approver, "Good to go")


def test_marketer_cannot_approve(draft, writer, make_user):
    content_submit(content=draft, by=writer)
    other = make_user("other-marketer", role=MARKETER)
    with pytest.raises(DomainError) as error:
        content_approve(content=draft, by=other)
    assert error.value.code == "not_approver"


def test_approver_cannot_approve_own_content_unless_allowed(approver, settings):
    own = content_create(by=approver, title="Mine", body="text")
    content_submit(content=own, by=approver)
    with pytest.raises(DomainError) as error:
        content_approve(content=own, by=approver)
    assert error.value.code == "self_approval"
    settings.PUBLISHING_ALLOW_SELF_APPROVAL = True
    assert content_approve(content=own, by=approver).status == ContentStatus.APPROVED


def test_request_changes_needs_a_note_and_returns_to_author(draft, writer, approver):
    content_submit(content=draft, by=writer)
    with pytest.raises(DomainError):
        content_request_changes(content=draft, by=approver, note=" ")
    content_request_changes(content=draft, by=approver, note="Add a customer quote")
    draft.refresh_from_db()
    assert draft.status == ContentStatus.CHANGES_REQUESTED
    content_submit(content=draft, by=writer)
    assert Review.objects.filter(content=draft).count() == 2


def test_editing_approved_content_sends_it_back_to_review_with_what_changed(draft, writer, approver):
    content_submit(content=draft, by=writer)
    content_approve(content=draft, by=approver)
    content_update(content=draft, by=writer, title="Spring launch, revised")
    draft.refresh_from_db()
    assert draft.status == ContentStatus.IN_REVIEW
    event = ContentEvent.objects.filter(content=draft, action="edited_after_approval").get()
    assert event.changes == {"title": ["Spring launch", "Spring launch, revised"]}
    assert Review.objects.filter(content=draft, status=ReviewStatus.OPEN).count() == 1


def test_editing_a_version_of_approved_content_sends_it_back_to_review(draft, writer, approver):
    content_submit(content=draft, by=writer)
    content_approve(content=draft, by=approver)
    (version,) = versions_generate(content=draft, kinds=["x"])
    version_update(version=version, by=writer, body="Shorter")
    draft.refresh_from_db()
    version.refresh_from_db()
    assert draft.status == ContentStatus.IN_REVIEW
    assert version.edited_by_hand


def test_approving_content_not_in_review_is_refused(draft, approver):
    with pytest.raises(DomainError) as error:
        content_approve(content=draft, by=approver)
    assert error.value.code == "not_in_review"


def test_available_actions_follow_role_and_status(draft, writer, approver):
    assert available_actions(draft, writer) == ["edit", "submit", "archive"]
    assert available_actions(draft, approver) == []
    draft = content_submit(content=draft, by=writer)
    assert available_actions(draft, writer) == ["edit"]
    assert available_actions(draft, approver) == ["approve", "request_changes"]


def test_archived_content_cannot_be_edited(draft, writer):
    content_archive(content=draft, by=writer)
    with pytest.raises(DomainError) as error:
        content_update(content=draft, by=writer, title="x")
    assert error.value.code == "not_editable"
