import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from aicmo_site.errors import DomainError
from aicmo_site.models import StatusChange
from aicmo_site.roles import MARKETER
from publishing.email.choices import ABStatus, DeliveryStatus, SendStatus
from publishing.email.models import ABTest, EmailDelivery
from publishing.email.sender import worker_run
from publishing.email.services import email_campaign_pause
from publishing.email.services.ab_tests import ab_test_create, ab_test_evaluate, ab_test_pick_winner, ab_test_results
from publishing.tests.email.helpers import ready_campaign, started

pytestmark = pytest.mark.django_db


def with_test(server, count=40, **options):
    email_campaign, contacts = ready_campaign(server, count, **options.pop("account", {}))
    test = ab_test_create(email_campaign=email_campaign, test_share=options.pop("test_share", 50),
                          wait_minutes=options.pop("wait_minutes", 0),
                          variants=[{"label": "A", "subject": "Big news, {{ contact.first_name }}"},
                                    {"label": "B", "subject": "A small update"}], **options)
    return email_campaign, test


def open_some(test, label: str, how_many: int):
    ids = EmailDelivery.objects.filter(variant__ab_test=test, variant__label=label).values_list("id", flat=True)
    EmailDelivery.objects.filter(id__in=list(ids)[:how_many]).update(first_opened_at=timezone.now(), open_count=1)


def test_test_share_is_split_evenly_and_the_rest_waits_for_the_winner(smtp_server):
    email_campaign, test = with_test(smtp_server, 40, test_share=50)
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    deliveries = EmailDelivery.objects.filter(campaign=email_campaign.campaign)
    assert deliveries.filter(variant__label="A", status=DeliveryStatus.SENT).count() == 10
    assert deliveries.filter(variant__label="B", status=DeliveryStatus.SENT).count() == 10
    assert deliveries.filter(held=True, status=DeliveryStatus.QUEUED).count() == 20
    subjects = {mail.message()["Subject"] for mail in smtp_server.messages}
    assert "A small update" in subjects and any(s.startswith("Big news, ") for s in subjects)
    email_campaign.refresh_from_db()
    assert email_campaign.status == SendStatus.SENDING  # never complete while the rest waits


def test_a_significant_difference_picks_the_winner_and_the_rest_gets_it(smtp_server,
                                                                        django_capture_on_commit_callbacks):
    email_campaign, test = with_test(smtp_server, 40, test_share=50)
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    open_some(test, "A", 9)
    open_some(test, "B", 1)
    results = {r.label: r for r in ab_test_results(test)}
    assert results["A"].rate == 0.9 and results["A"].p_value is None
    assert results["B"].p_value < 0.01 and results["B"].interval[0] < 0.1 < results["B"].interval[1]

    with django_capture_on_commit_callbacks():
        winner = ab_test_evaluate(test=test)
    assert winner.label == "A"
    test.refresh_from_db()
    assert test.status == ABStatus.DECIDED and "A 90.0% beat B 10.0%" in test.decision_note
    smtp_server.messages.clear()
    worker_run(email_campaign_id=email_campaign.pk)
    assert len(smtp_server.messages) == 20
    assert all(mail.message()["Subject"].startswith("Big news, ") for mail in smtp_server.messages)
    email_campaign.refresh_from_db()
    assert email_campaign.status == SendStatus.COMPLETED


def test_no_winner_before_the_wait_is_over_or_without_significance(smtp_server):
    email_campaign, test = with_test(smtp_server, 40, test_share=50, wait_minutes=60)
    started(email_campaign)
    worker_run(email_campaign_id=email_campaign.pk)
    open_some(test, "A", 9)
    assert ab_test_evaluate(test=test) is None  # still waiting
    open_some(test, "B", 8)
    later = timezone.now() + timezone.timedelta(minutes=61)
    assert ab_test_evaluate(test=test, now=later) is None  # 90% vs 80% of ten each is not significant


def test_a_person_can_pick_the_winner_but_only_among_its_variants(smtp_server):
    email_campaign, test = with_test(smtp_server, 10)
    _, other = with_test(smtp_server, 4, account={"name": "second-account"})
    with pytest.raises(DomainError):
        ab_test_pick_winner(test=test, winner=other.variants.first())
    started(email_campaign)
    ab_test_pick_winner(test=test, winner=test.variants.get(label="B"), note="Brand prefers B")
    test.refresh_from_db()
    assert test.winner.label == "B" and test.decision_note == "Brand prefers B"


def test_a_winner_is_picked_only_while_the_send_is_sending_or_paused_and_the_pick_is_recorded(
        smtp_server, api_as):
    """The rule lived in the send's page only; the API refuses it too now, and the move is audited."""
    email_campaign, test = with_test(smtp_server, 10)
    client = api_as(MARKETER)
    b = test.variants.get(label="B")
    refused = client.post(f"/api/ab-tests/{test.pk}/pick-winner/", {"winner": b.pk}, format="json")
    assert refused.status_code == 409
    assert refused.json()["message"] == "A winner is picked while the send is sending or paused."
    test.refresh_from_db()
    assert test.status == ABStatus.TESTING and not StatusChange.objects.exists()
    assert client.get(f"/api/ab-tests/{test.pk}/").json()["available_actions"] == []

    started(email_campaign)
    email_campaign_pause(email_campaign=email_campaign)
    assert client.get(f"/api/ab-tests/{test.pk}/").json()["available_actions"] == ["pick_winner"]
    picked = client.post(f"/api/ab-tests/{test.pk}/pick-winner/", {"winner": b.pk}, format="json")
    assert picked.status_code == 200, picked.json()
    assert (picked.json()["status"], picked.json()["available_actions"]) == (ABStatus.DECIDED, [])
    change = StatusChange.objects.get(content_type=ContentType.objects.get_for_model(ABTest), object_id=test.pk)
    assert (change.from_status, change.to_status, change.by.username, change.note) == (
        ABStatus.TESTING, ABStatus.DECIDED, "user-marketer", "Winner: B")


def test_a_variant_must_change_something(smtp_server):
    email_campaign, _ = ready_campaign(smtp_server, 1)
    with pytest.raises(DomainError) as caught:
        ab_test_create(email_campaign=email_campaign, variants=[{"label": "A"}, {"label": "B", "subject": "x"}])
    assert caught.value.code == "empty_variant"
