import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics.models import CampaignChannelDay, ContactScore
from crm.tests.factories import EngagementEventFactory

pytestmark = pytest.mark.django_db


def test_rebuild_analytics_shows_progress_and_totals():
    # Ids of their own, from 1: the rebuild reads every id from 0 to the highest, a chunk at a time, and on
    # PostgreSQL the id sequence keeps what every earlier test took (a chunk of 1 was then ~100,000 queries).
    for event_id in (1, 2, 3):
        EngagementEventFactory(id=event_id, kind="clicked", campaign_id=4)
    out, err = io.StringIO(), io.StringIO()
    call_command("rebuild_analytics", "--chunk-size", "1", stdout=out, stderr=err)
    assert "Rebuilt from 3 events" in out.getvalue()
    assert "100.0%" in err.getvalue()
    assert sum(CampaignChannelDay.objects.values_list("clicks", flat=True)) == 3


def test_score_contacts_all_and_one():
    event = EngagementEventFactory(kind="replied")
    out = io.StringIO()
    call_command("score_contacts", stdout=out)
    assert "Scored 1 contacts" in out.getvalue()
    call_command("score_contacts", "--contact", str(event.contact_id), stdout=out)
    assert ContactScore.objects.get(contact=event.contact).score > 0
    with pytest.raises(CommandError, match="No contact with id 999999"):
        call_command("score_contacts", "--contact", "999999")


def test_schedules_are_written_by_setup_schedules():
    from django_q.models import Schedule

    call_command("setup_schedules", stdout=io.StringIO())
    call_command("setup_schedules", stdout=io.StringIO())
    assert Schedule.objects.filter(func="analytics.tasks.fold_rollups").count() == 1
