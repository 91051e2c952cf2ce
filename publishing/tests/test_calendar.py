"""The calendar's day, week and month views, and moving a post to another day."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.roles import ANALYST
from publishing.choices import JobStatus
from publishing.services import job_reschedule
from publishing.tests.factories import ChannelFactory, JobFactory

pytestmark = pytest.mark.django_db


def _at(day, hour=9, minute=30):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def _job(day, **fields):
    when = _at(day)
    return JobFactory(scheduled_at=when, due_at=when, **fields)


def _monday(day):
    return day - timedelta(days=day.weekday())


def test_reschedule_moves_the_day_keeps_the_time_and_records_who(make_user):
    person = make_user("mia")
    today = timezone.localdate()
    job = _job(today + timedelta(days=3))
    job_reschedule(job=job, day=today + timedelta(days=5), by=person)
    job.refresh_from_db()
    assert job.scheduled_at == job.due_at == _at(today + timedelta(days=5))
    assert job.status == JobStatus.SCHEDULED
    event = job.events.get()
    assert (event.by, event.from_status, event.to_status) == (person, "scheduled", "scheduled")
    assert "Moved from" in event.note


def test_a_paused_job_moves_and_stays_paused(make_user):
    job = _job(timezone.localdate() + timedelta(days=1), status=JobStatus.PAUSED)
    job_reschedule(job=job, day=timezone.localdate() + timedelta(days=2), by=make_user())
    job.refresh_from_db()
    assert job.status == JobStatus.PAUSED and job.scheduled_at.date() == (timezone.localdate() + timedelta(days=2))


@pytest.mark.parametrize("status", [JobStatus.PUBLISHING, JobStatus.PUBLISHED, JobStatus.FAILED,
                                    JobStatus.CANCELED, JobStatus.AWAITING_MANUAL])
def test_a_job_publishing_or_done_is_not_moved(status):
    day = timezone.localdate() + timedelta(days=1)
    job = _job(day, status=status)
    with pytest.raises(ConflictError):
        job_reschedule(job=job, day=day + timedelta(days=1))
    job.refresh_from_db()
    assert job.scheduled_at == _at(day) and not job.events.exists()


def test_a_post_is_not_moved_into_the_past():
    job = _job(timezone.localdate() + timedelta(days=1))
    with pytest.raises(DomainError) as refused:
        job_reschedule(job=job, day=timezone.localdate() - timedelta(days=1))
    assert refused.value.code == "in_the_past"
    job.refresh_from_db()
    assert job.scheduled_at == _at(timezone.localdate() + timedelta(days=1))


def test_a_retry_time_later_than_the_new_day_is_kept():
    today = timezone.localdate()
    retry = _at(today + timedelta(days=4))
    job = _job(today + timedelta(days=1), next_retry_at=retry)
    job_reschedule(job=job, day=today + timedelta(days=2))
    job.refresh_from_db()
    assert job.scheduled_at == _at(today + timedelta(days=2)) and job.due_at == retry


def test_month_view_lists_the_whole_weeks_of_the_month(marketer_client, django_assert_num_queries):
    first = (timezone.localdate() + timedelta(days=62)).replace(day=1)
    inside = _job(first + timedelta(days=10), channel=ChannelFactory(name="Team Slack"))
    next_month = _job((first + timedelta(days=40)).replace(day=1) + timedelta(days=7))
    for _ in range(3):
        _job(first + timedelta(days=12))
    url = reverse("publishing:calendar")
    with django_assert_num_queries(7):
        page = marketer_client.get(url, {"view": "month", "month": first.isoformat()[:7]})
    days = [day for day, _ in page.context["days"]]
    assert days[0] == _monday(first) and days[0].weekday() == 0 and days[-1].weekday() == 6
    assert len(days) % 7 == 0 and (days[-1] + timedelta(days=1)).month != first.month
    assert inside.content.title in page.content.decode()
    assert next_month.content.title not in page.content.decode()
    assert f'id="calendar-period">{first:%B %Y}' in page.content.decode()
    assert page.context["next"] == (first + timedelta(days=40)).replace(day=1)
    # Opened without a date, one query more looks for the nearest month with posts.
    with django_assert_num_queries(8):
        marketer_client.get(url, {"view": "month"})


def test_week_view_keeps_its_query_count_with_more_posts(marketer_client, django_assert_num_queries):
    monday = _monday(timezone.localdate()) + timedelta(days=14)
    _job(monday + timedelta(days=1))
    url = reverse("publishing:calendar")
    with django_assert_num_queries(7):
        marketer_client.get(url, {"week": monday.isoformat()})
    for n in range(5):
        _job(monday + timedelta(days=n % 7))
    with django_assert_num_queries(7):
        page = marketer_client.get(url, {"week": monday.isoformat()})
    assert sum(len(jobs) for _, channels in page.context["days"] for jobs in channels.values()) == 6


def test_an_empty_week_opens_on_the_first_week_ahead_with_posts(marketer_client):
    ahead = _monday(timezone.localdate()) + timedelta(days=21)
    job = _job(ahead + timedelta(days=2))
    _job(ahead + timedelta(days=30))
    page = marketer_client.get(reverse("publishing:calendar"))
    assert page.context["first"] == ahead and job.content.title in page.content.decode()
    assert b'id="calendar-moved"' in page.content
    month = marketer_client.get(reverse("publishing:calendar"), {"view": "month"})
    assert month.context["first"] == (ahead + timedelta(days=2)).replace(day=1)
    # A date in the address is obeyed, empty or not.
    asked = marketer_client.get(reverse("publishing:calendar"), {"week": timezone.localdate().isoformat()})
    assert asked.context["first"] == _monday(timezone.localdate()) and b'id="calendar-moved"' not in asked.content


def test_with_nothing_ahead_it_opens_on_the_last_week_with_posts(marketer_client):
    behind = _monday(timezone.localdate()) - timedelta(days=14)
    JobFactory(scheduled_at=_at(behind), due_at=_at(behind), status=JobStatus.PUBLISHED)
    page = marketer_client.get(reverse("publishing:calendar"))
    assert page.context["first"] == behind


def test_this_week_with_posts_stays(marketer_client):
    job = JobFactory(scheduled_at=timezone.now(), due_at=timezone.now())
    _job(timezone.localdate() + timedelta(days=40))
    page = marketer_client.get(reverse("publishing:calendar"))
    assert page.context["first"] == _monday(timezone.localdate()) and page.context["moved_from"] is None
    assert job.content.title in page.content.decode()


def test_move_form_reschedules_and_returns_to_the_same_calendar(marketer_client):
    monday = _monday(timezone.localdate()) + timedelta(days=7)
    job = _job(monday)
    back = f"{reverse('publishing:calendar')}?view=month&month={monday:%Y-%m}"
    page = marketer_client.get(back)
    assert f'action="{reverse("publishing:job-reschedule", args=[job.pk])}"'.encode() in page.content
    response = marketer_client.post(reverse("publishing:job-reschedule", args=[job.pk]),
                                    {"day": (monday + timedelta(days=3)).isoformat(), "next": back})
    assert response.status_code == 302 and response["Location"] == back
    job.refresh_from_db()
    assert job.scheduled_at == _at(monday + timedelta(days=3)) and job.events.get().by == marketer_client.user


def test_move_refused_is_explained_and_a_foreign_return_address_ignored(marketer_client):
    job = _job(timezone.localdate() + timedelta(days=1), status=JobStatus.PUBLISHED)
    response = marketer_client.post(reverse("publishing:job-reschedule", args=[job.pk]),
                                    {"day": (timezone.localdate() + timedelta(days=2)).isoformat(),
                                     "next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain[0][0] == reverse("publishing:calendar")
    assert "A published post cannot be moved." in response.content.decode()


def test_an_analyst_sees_no_move_control_and_cannot_move(client, make_user):
    client.force_login(make_user("ana", role=ANALYST))
    day = timezone.localdate() + timedelta(days=1)
    job = _job(day)
    page = client.get(reverse("publishing:calendar"), {"date": day.isoformat(), "view": "day"})
    assert job.content.title.encode() in page.content
    assert b"move-form" not in page.content and b'draggable="true"' not in page.content
    response = client.post(reverse("publishing:job-reschedule", args=[job.pk]), {"day": day.isoformat()})
    assert response.status_code == 403
