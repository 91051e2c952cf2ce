"""The shared transition mechanism, on a workflow of its own over the content review model (so these
tests do not depend on any app's table)."""

from threading import Thread

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.models import StatusChange
from aicmo_site.transitions import Action, Change, Via, Workflow
from publishing.choices import ReviewStatus as S
from publishing.models import Review
from publishing.tests.factories import ContentFactory, UserFactory

TABLE = {
    S.OPEN: {S.APPROVED, S.CHANGES_REQUESTED, S.WITHDRAWN},
    S.APPROVED: set(),
    S.CHANGES_REQUESTED: {S.OPEN},
    S.WITHDRAWN: set(),
}
TERMINAL = {S.APPROVED, S.WITHDRAWN}


def _workflow(**options) -> Workflow:
    return Workflow(model=Review, transitions=TABLE, terminal=TERMINAL, noun="review", register=False, **options)


@pytest.fixture
def review(db):
    return Review.objects.create(content=ContentFactory())


def test_a_move_in_the_table_saves_returns_the_fresh_row_and_records_who_when_from_to(review):
    person = UserFactory()
    stale = Review.objects.get(pk=review.pk)
    moved = _workflow().transition(stale, S.APPROVED, by=person, note="Looks right", via=Via.PAGE)
    assert moved.status == stale.status == S.APPROVED
    assert Review.objects.get(pk=review.pk).status == S.APPROVED
    change = StatusChange.objects.get()
    assert (change.content_type, change.object_id, change.field) == (
        ContentType.objects.get_for_model(Review),
        review.pk,
        "status",
    )
    assert (change.from_status, change.to_status, change.by, change.note, change.via, change.count) == (
        S.OPEN,
        S.APPROVED,
        person,
        "Looks right",
        "page",
        1,
    )
    assert change.created_at is not None


def test_the_move_is_checked_against_the_stored_status_not_the_callers_copy(review):
    stale = Review.objects.get(pk=review.pk)
    Review.objects.filter(pk=review.pk).update(status=S.WITHDRAWN)
    with pytest.raises(ConflictError) as refused:
        _workflow().transition(stale, S.APPROVED)
    assert refused.value.message == "A review that is withdrawn cannot become approved."
    assert refused.value.extra == {"from": S.WITHDRAWN, "to": S.APPROVED, "allowed": []}
    assert not StatusChange.objects.exists()


def test_an_unknown_status_is_refused_with_the_known_ones(review):
    with pytest.raises(DomainError) as refused:
        _workflow().transition(review, "lost")
    assert refused.value.code == "unknown_status"
    assert S.OPEN in refused.value.extra["allowed"]


def test_fields_are_saved_with_the_status_and_the_hook_gets_the_change(review):
    person, seen = UserFactory(), []
    workflow = _workflow(audit=seen.append)
    workflow.transition(
        review, S.CHANGES_REQUESTED, by=person, note="Shorter", fields={"note": "Shorter"}, action="changes_requested"
    )
    assert Review.objects.get(pk=review.pk).note == "Shorter"
    [change] = seen
    assert isinstance(change, Change)
    assert (change.source, change.target, change.by, change.extra) == (
        S.OPEN,
        S.CHANGES_REQUESTED,
        person,
        {"action": "changes_requested"},
    )
    assert not StatusChange.objects.exists()  # the hook replaces the shared table


def test_full_clean_runs_when_the_workflow_asks_for_it_and_nothing_moves_when_it_fails(review):
    with pytest.raises(ValidationError, match="decided_by"):
        _workflow(clean_exclude=["content", "requested_by"]).transition(review, S.APPROVED, fields={"decided_by_id": 0})
    assert Review.objects.get(pk=review.pk).status == S.OPEN
    assert not StatusChange.objects.exists()


def test_a_table_that_misses_a_status_or_names_an_unknown_terminal_one_is_refused_at_declaration():
    with pytest.raises(ValueError, match="every status"):
        Workflow(model=Review, transitions={S.OPEN: {S.APPROVED}}, terminal=(), register=False)
    with pytest.raises(ValueError, match="terminal"):
        Workflow(model=Review, transitions=TABLE, terminal={"lost"}, register=False)


def test_bulk_moves_only_rows_whose_status_allows_it_and_records_one_row_with_the_count(db):
    person = UserFactory()
    open_ones = [Review.objects.create(content=ContentFactory()) for _ in range(3)]
    done = Review.objects.create(content=ContentFactory(), status=S.APPROVED)
    moved = _workflow().bulk_transition(
        Review.objects.all(), S.WITHDRAWN, by=person, note="Campaign canceled", via=Via.WORKER
    )
    assert moved == 3
    assert {r.status for r in Review.objects.filter(pk__in=[r.pk for r in open_ones])} == {S.WITHDRAWN}
    assert Review.objects.get(pk=done.pk).status == S.APPROVED
    change = StatusChange.objects.get()
    assert (change.object_id, change.from_status, change.to_status, change.count, change.by) == (
        None,
        S.OPEN,
        S.WITHDRAWN,
        3,
        person,
    )


def test_bulk_with_a_hook_hands_it_the_ids_moved_per_source(db):
    seen = []
    open_one = Review.objects.create(content=ContentFactory())
    asked = Review.objects.create(content=ContentFactory(), status=S.CHANGES_REQUESTED)
    workflow = _workflow(bulk_audit=seen.append)
    assert workflow.bulk_transition(Review.objects.all(), S.OPEN, sources=[S.CHANGES_REQUESTED]) == 1
    assert [(c.ids, c.source, c.target) for c in seen] == [([asked.pk], S.CHANGES_REQUESTED, S.OPEN)]
    assert Review.objects.get(pk=open_one.pk).status == S.OPEN


def test_available_actions_follow_the_table_the_permission_and_the_condition(review):
    reviewer, author = UserFactory(), UserFactory()
    reviewer.user_permissions.add(Permission.objects.get(codename="approve_content"))
    workflow = _workflow(
        actions=[
            Action(
                "approve",
                "Approve",
                to=S.APPROVED,
                permission="publishing.approve_content",
                condition=lambda obj, user: user.pk != obj.content.author_id,
                refusal="Not your own.",
            ),
            Action("withdraw", "Withdraw", to=S.WITHDRAWN),
            Action("reopen", "Reopen", to=S.OPEN),
            Action("comment", "Comment", sources={S.OPEN}),
        ]
    )
    assert [a.name for a in workflow.available_actions(review, reviewer)] == ["approve", "withdraw", "comment"]
    assert [a.name for a in workflow.available_actions(review, author)] == ["withdraw", "comment"]
    with pytest.raises(DomainError) as refused:
        workflow.check_action(review, "approve", author)
    assert refused.value.status_code == 403
    review.content.author = reviewer
    with pytest.raises(ConflictError, match="Not your own"):
        workflow.check_action(review, "approve", reviewer)
    with pytest.raises(ConflictError, match="cannot become open"):
        workflow.check_action(review, "reopen", None)
    review.status = S.WITHDRAWN
    with pytest.raises(ConflictError, match=r"withdrawn cannot be changed that way \(comment\)"):
        workflow.check_action(review, "comment", None)


@pytest.mark.django_db(transaction=True)
def test_two_moves_at_once_the_second_sees_the_first_and_is_refused():
    """The row is locked and its status read under the lock: two people approving and withdrawing the
    same review at once leave one move, not two."""
    review = Review.objects.create(content=ContentFactory())
    workflow, outcomes = _workflow(), []

    def move(to):
        try:
            workflow.transition(Review.objects.get(pk=review.pk), to)
            outcomes.append(to)
        except ConflictError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [Thread(target=move, args=(to,)) for to in (S.APPROVED, S.WITHDRAWN)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == sorted([Review.objects.get(pk=review.pk).status, "refused"], key=str)
    assert StatusChange.objects.count() == 1
