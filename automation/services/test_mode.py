"""The builder's test mode: one chosen contact goes through an active journey through the same runner
as everyone, flagged as a test enrolment (waits shortened to runner.TEST_WAIT, emails through a send of
their own, left out of the figures and of the re-entry rule)."""

import time

from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import ConflictError
from automation.choices import ENROLMENT_LIVE, EnrolmentStatus, JourneyStatus
from automation.models import Journey, JourneyEnrolment
from automation.services.enrolment import _first_step
from automation.services.runner import journeys_run_due
from crm.models import Contact

# A test run is followed this long at most; a journey's shortened waits fit well within it.
FOLLOW_FOR = 300


@transaction.atomic
def journey_test_start(*, journey: Journey, contact: Contact, by=None) -> JourneyEnrolment:
    """Enrol the contact for a test run, due now, and have a worker follow it step by step. A contact
    already on a test run of this journey is taken off it first, so the tester can start again."""
    from django_q.tasks import async_task

    if journey.status != JourneyStatus.ACTIVE:
        raise ConflictError("Activate the journey to test it: the test runs through the live runner.",
                            code="not_active")
    if contact.erased_at is not None:
        raise ConflictError("This contact was erased.", code="erased")
    now = timezone.now()
    JourneyEnrolment.objects.filter(journey=journey, contact=contact, is_test=True, status__in=ENROLMENT_LIVE).update(
        status=EnrolmentStatus.EXITED, exit_reason="test run restarted", finished_at=now, due_at=None)
    enrolment = JourneyEnrolment(journey=journey, contact=contact, step=_first_step(journey), due_at=now,
                                 reentry=journey.reentry, is_test=True,
                                 source=f"test:{by.get_username()}"[:40] if by else "test")
    enrolment.full_clean()
    enrolment.save()
    transaction.on_commit(lambda: async_task("automation.tasks.journey_test_follow", enrolment.pk))
    return enrolment


def journey_test_follow(*, enrolment_id: int, follow_for: int = FOLLOW_FOR) -> str:
    """Run the runner as soon as the test contact's next step is due, until it is through (or the time
    is up: the minute's schedule then takes it like anyone). Returns the enrolment's status."""
    deadline = time.monotonic() + follow_for
    while True:
        enrolment = JourneyEnrolment.objects.filter(pk=enrolment_id).only("status", "due_at").first()
        if enrolment is None or enrolment.status not in ENROLMENT_LIVE or time.monotonic() > deadline:
            return enrolment.status if enrolment else "gone"
        wait = (enrolment.due_at - timezone.now()).total_seconds() if enrolment.due_at else 1
        if wait > 0:
            time.sleep(min(wait, 1))
            continue
        if not journeys_run_due(max_batches=1).steps:
            # Due but not taken (the journey paused, or another worker holds it): look again shortly.
            time.sleep(1)
