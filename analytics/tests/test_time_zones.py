"""The team's time zone decides the day and the month: an event late on 31 March in UTC is on
1 April in Tokyo (UTC+9, no daylight saving), both in trends and in cohorts."""

import datetime as dt

import pytest

from analytics.reports import cohorts, trend
from analytics.services import rollup_fold
from crm.models import Contact
from crm.tests.factories import ContactFactory, EngagementEventFactory

pytestmark = pytest.mark.django_db
LAST_OF_MARCH_UTC = dt.datetime(2026, 3, 31, 20, 0, tzinfo=dt.UTC)  # 05:00 on 1 April in Tokyo


def contact_created(when):
    contact = ContactFactory()
    Contact.objects.filter(pk=contact.pk).update(created_at=when)
    return contact


@pytest.fixture
def tokyo(settings):
    settings.TIME_ZONE = "Asia/Tokyo"


def test_a_late_utc_event_lands_on_the_next_day_and_month_in_the_trend(tokyo):
    contact = contact_created(dt.datetime(2026, 3, 10, tzinfo=dt.UTC))
    EngagementEventFactory(contact=contact, kind="clicked", campaign_id=1, occurred_at=LAST_OF_MARCH_UTC)
    rollup_fold()

    by_day = trend(metric="clicks", interval="day", start=dt.date(2026, 3, 31), end=dt.date(2026, 4, 1))
    assert [(p["period"], p["value"]) for p in by_day["points"]] == [
        (dt.date(2026, 3, 31), 0), (dt.date(2026, 4, 1), 1)]
    april = trend(metric="clicks", interval="day", start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30))
    assert (april["total"], april["previous_total"]) == (1, 0)


def test_acquisition_month_and_activity_month_follow_the_team_time_zone(tokyo):
    # 20:00 UTC on 28 February is 05:00 on 1 March in Tokyo: a March contact.
    march_contact = contact_created(dt.datetime(2026, 2, 28, 20, 0, tzinfo=dt.UTC))
    contact_created(dt.datetime(2026, 3, 15, tzinfo=dt.UTC))
    EngagementEventFactory(contact=march_contact, kind="opened", occurred_at=LAST_OF_MARCH_UTC)

    table = cohorts(by="month", months=3, now=dt.datetime(2026, 5, 10, tzinfo=dt.UTC))

    (row,) = table["rows"]
    assert (row["cohort"], row["size"]) == ("2026-03", 2)
    # Engaged in April (month 1 after acquisition), not in March.
    assert [cell["engaged"] for cell in row["months"]] == [0, 0.5, 0]


def test_the_same_facts_in_utc_stay_in_february_and_march(settings):
    settings.TIME_ZONE = "UTC"
    contact = contact_created(dt.datetime(2026, 2, 28, 20, 0, tzinfo=dt.UTC))
    EngagementEventFactory(contact=contact, kind="opened", campaign_id=1, occurred_at=LAST_OF_MARCH_UTC)
    rollup_fold()

    (row,) = cohorts(by="month", months=3, now=dt.datetime(2026, 5, 10, tzinfo=dt.UTC))["rows"]
    assert row["cohort"] == "2026-02"
    assert [cell["engaged"] for cell in row["months"]] == [0, 1.0, 0]
    by_day = trend(metric="opens", interval="day", start=dt.date(2026, 3, 31), end=dt.date(2026, 4, 1))
    assert [p["value"] for p in by_day["points"]] == [1, 0]
