import pytest

from crm import demo
from crm.models import Contact, EngagementEvent, Segment
from crm.selectors import segment_count

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_every_segment_finds_people(monkeypatch):
    # Sixty people fill every segment; the demo's 200 (tests/test_demo_figures.py seeds them) made most of
    # this test's time, a contact and its history being about 30 queries.
    monkeypatch.setattr(demo, "PEOPLE", 60)
    first = demo.seed()
    counts = (Contact.objects.count(), EngagementEvent.objects.count(), Segment.objects.count())
    second = demo.seed()
    assert counts == (Contact.objects.count(), EngagementEvent.objects.count(), Segment.objects.count())
    assert counts[0] == demo.PEOPLE and counts[2] == 3
    assert "60 demo contacts added" in first and "0 demo contacts added" in second
    # "Opened in the last 30 days" needs the email history, which publishing's demo makes with its campaign
    # (tests/test_demo_figures.py checks every segment on the whole demo).
    assert all(segment_count(segment.rules) > 0 for segment in Segment.objects.exclude(
        name="Opened in the last 30 days"))
    assert not EngagementEvent.objects.exclude(campaign_id=None).exists(), "crm knows no campaign"
