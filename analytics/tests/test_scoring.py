import datetime as dt
import math

import pytest
from django.db import connection

from aicmo_site.errors import DomainError
from analytics.models import ContactScore, ContactScoreHistory, FoldCheckpoint, ScoreTierCount
from analytics.services import contact_score_one, contacts_score, scoring
from crm.models import Contact
from crm.services.scores import contact_scores_apply as apply
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


def test_erased_contacts_are_not_scored_and_lose_the_score_they_had(make_user):
    from crm.privacy import contact_erase

    kept, erased = ContactFactory(), ContactFactory()
    for contact in (kept, erased):
        EngagementEventFactory(contact=contact, kind="converted", occurred_at=NOW, value=50)
    contacts_score(now=NOW)
    assert Contact.objects.get(pk=erased.pk).engagement_tier == "low"

    contact_erase(contact=erased, by=make_user("dpo"), confirm=erased.email)
    result = contacts_score(now=NOW)

    assert result["contacts_scored"] == 1
    assert list(ContactScore.objects.values_list("contact_id", flat=True)) == [kept.pk]
    assert dict(ScoreTierCount.objects.values_list("tier", "contacts")) == {"low": 1}
    assert Contact.objects.values_list("engagement_score", "engagement_tier").get(pk=erased.pk) == (0, "inactive")
    with pytest.raises(DomainError):
        contact_score_one(contact_id=erased.pk, now=NOW)
    assert not ContactScore.objects.filter(contact=erased).exists()


def test_scores_of_deleted_contacts_go_with_the_next_full_run():
    kept, deleted = ContactFactory(), ContactFactory()
    contacts_score(now=NOW)
    # A delete that bypasses Django's cascade (the score rows carry no database constraint).
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM crm_contact WHERE id = %s", [deleted.pk])
    contacts_score(now=NOW)
    assert list(ContactScore.objects.values_list("contact_id", flat=True)) == [kept.pk]


def test_a_full_rewrite_is_copied_onto_the_contacts_in_rounds_of_their_own_transactions(monkeypatch):
    contacts = ContactFactory.create_batch(9)
    for contact in contacts:
        EngagementEventFactory(contact=contact, kind="clicked", occurred_at=NOW)
    rounds = []
    monkeypatch.setattr(scoring, "contact_scores_apply",
                        lambda *, scores: rounds.append(sorted(s.contact_id for s in scores)) or apply(scores=scores))

    contacts_score(now=NOW)

    assert len(rounds) == scoring._ROUNDS_PER_FULL_REWRITE
    assert sorted(pk for ids in rounds for pk in ids) == sorted(c.pk for c in contacts)
    assert set(Contact.objects.values_list("engagement_score", flat=True)) == {expected(3)}
    # The steady state, one contact in more than 8 moved: one round, that contact alone.
    rounds.clear()
    EngagementEventFactory(contact=contacts[0], kind="replied", occurred_at=NOW)
    contacts_score(now=NOW + dt.timedelta(minutes=1))
    assert rounds == [[contacts[0].pk]]


def test_a_copy_left_unfinished_is_finished_by_the_next_run(monkeypatch):
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="replied", occurred_at=NOW)

    def fail(*, scores):
        raise RuntimeError("the worker died during the copy")

    monkeypatch.setattr(scoring, "contact_scores_apply", fail)
    with pytest.raises(RuntimeError):
        contacts_score(now=NOW)
    assert ContactScore.objects.get(contact=contact).score == expected(5)
    assert Contact.objects.get(pk=contact.pk).engagement_score == 0
    monkeypatch.setattr(scoring, "contact_scores_apply", apply)

    # An hour later nothing moved: the score is copied all the same, from the checkpoint.
    contacts_score(now=NOW + dt.timedelta(hours=1))

    assert Contact.objects.get(pk=contact.pk).engagement_score == expected(5)
    assert FoldCheckpoint.objects.get(name=scoring.CRM_COPY).folded_at is None


def test_deleting_a_contact_through_the_orm_still_deletes_its_scores():
    contact = ContactFactory()
    EngagementEventFactory(contact=contact, kind="replied", occurred_at=NOW)
    contacts_score(now=NOW)
    assert ContactScoreHistory.objects.filter(contact=contact).exists()
    contact.delete()
    assert not ContactScore.objects.exists() and not ContactScoreHistory.objects.exists()
