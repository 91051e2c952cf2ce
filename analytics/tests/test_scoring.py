import datetime as dt
import math

import pytest

from analytics.models import ContactScore, ContactScoreHistory
from analytics.services import contact_score_one, contacts_score
from crm.models import Contact
from crm.tests.factories import ContactFactory, EngagementEventFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def expected(points: float, scale: float = 20) -> int:
    return round(100 * (1 - math.exp(-points / scale)))


def test_contact_without_events_scores_zero_and_inactive():
    contact = ContactFactory()
    contacts_score(now=NOW)
    score = ContactScore.objects.get(contact=contact)
    assert (score.score, score.tier, score.points) == (0, "inactive", 0)


def test_weights_and_half_life_decay_as_documented():
    contact = ContactFactory()
    # A click today (3 points) and a reply 30 days ago (5 × 0.5 = 2.5 points): 5.5 points.
    EngagementEventFactory(contact=contact, kind="clicked", occurred_at=NOW)
    EngagementEventFactory(contact=contact, kind="replied", occurred_at=NOW - dt.timedelta(days=30))
    # Sent mail carries no weight; an event after "now" is not counted yet.
    EngagementEventFactory(contact=contact, kind="sent", occurred_at=NOW)
    EngagementEventFactory(contact=contact, kind="clicked", occurred_at=NOW + dt.timedelta(days=1))

    contacts_score(now=NOW)

    score = ContactScore.objects.get(contact=contact)
    assert score.points == pytest.approx(5.5, rel=1e-6)
    assert score.score == expected(5.5) == 24
    assert score.tier == "low"


def test_tiers_follow_thresholds_and_are_mirrored_on_the_contact():
    busy, quiet = ContactFactory(), ContactFactory()
    for _ in range(4):
        EngagementEventFactory(contact=busy, kind="converted", occurred_at=NOW, value=100)
    EngagementEventFactory(contact=quiet, kind="opened", occurred_at=NOW)

    result = contacts_score(now=NOW)

    assert result["contacts_scored"] == 2
    busy_score = ContactScore.objects.get(contact=busy)
    assert busy_score.score == expected(40) == 86 and busy_score.tier == "high"
    assert busy_score.lifetime_value == 400
    busy.refresh_from_db()
    quiet.refresh_from_db()
    assert (busy.engagement_score, busy.engagement_tier) == (86, "high")
    assert (quiet.engagement_score, quiet.engagement_tier) == (expected(1), "inactive")


def test_configurable_weights_half_life_and_thresholds(settings):
    settings.ANALYTICS_EVENT_WEIGHTS = {"opened": 10}
    settings.ANALYTICS_SCORE_HALF_LIFE_DAYS = 10
    settings.ANALYTICS_TIER_THRESHOLDS = {"high": 90, "medium": 20, "low": 5}
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="opened", occurred_at=NOW - dt.timedelta(days=10))
    EngagementEventFactory(contact=contact, kind="clicked", occurred_at=NOW)
    contacts_score(now=NOW)
    score = ContactScore.objects.get(contact=contact)
    assert score.points == pytest.approx(5.0)
    assert (score.score, score.tier) == (expected(5), "medium")


def test_history_keeps_a_row_per_day_the_score_changed():
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="clicked", occurred_at=NOW)
    contacts_score(now=NOW)
    contacts_score(now=NOW)  # same day, same score: nothing new
    assert ContactScoreHistory.objects.filter(contact=contact).count() == 1
    contacts_score(now=NOW + dt.timedelta(days=60))  # decayed
    history = list(ContactScoreHistory.objects.filter(contact=contact).order_by("day").values_list("score", flat=True))
    assert history == [expected(3), expected(3 * 0.25)]


def test_scoring_one_contact_touches_only_that_contact():
    one, other = ContactFactory(), ContactFactory()
    EngagementEventFactory(contact=one, kind="replied", occurred_at=NOW)
    EngagementEventFactory(contact=other, kind="replied", occurred_at=NOW)
    score = contact_score_one(contact_id=one.pk, now=NOW)
    assert score.score == expected(5)
    assert not ContactScore.objects.filter(contact=other).exists()
    assert Contact.objects.get(pk=other.pk).engagement_score == 0


def test_a_run_that_moves_no_score_rewrites_no_stored_score():
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="replied", occurred_at=NOW)
    contacts_score(now=NOW)
    first = ContactScore.objects.get(contact=contact)

    # An hour later the points have decayed a little, the score (rounded) has not moved.
    result = contacts_score(now=NOW + dt.timedelta(hours=1))

    again = ContactScore.objects.get(contact=contact)
    assert result["contacts_scored"] == 1 and result["scores_changed"] == 0
    assert (again.score, again.points, again.computed_at) == (first.score, first.points, first.computed_at)
    later = contacts_score(now=NOW + dt.timedelta(days=30))
    assert later["scores_changed"] == 1
    assert ContactScore.objects.get(contact=contact).score == expected(2.5)
