import pytest

from aicmo_site.roles import ANALYST, MARKETER
from publishing.email.choices import SendStatus
from publishing.tests.email.factories import EmailCampaignFactory, EmailDeliveryFactory

pytestmark = pytest.mark.django_db


def test_send_list_filters_searches_and_shows_an_empty_state(logged_in, django_assert_max_num_queries):
    client = logged_in(ANALYST)
    assert b"No email sends yet" in client.get("/email/campaigns/").content
    for n in range(3):
        EmailCampaignFactory(campaign__name=f"Autumn {n}")
    EmailCampaignFactory(campaign__name="Winter")
    with django_assert_max_num_queries(12):
        page = client.get("/email/campaigns/", {"q": "autumn", "ordering": "campaign__name"})
    assert page.content.count(b"Autumn") == 3 and b"Winter" not in page.content
    assert b"match these filters" in client.get("/email/campaigns/", {"status": "sending"}).content


def test_send_detail_shows_progress_and_deliveries(logged_in):
    send = EmailCampaignFactory()
    EmailDeliveryFactory(campaign=send.campaign)
    page = logged_in(ANALYST).get(f"/email/campaigns/{send.campaign_id}/")
    assert page.status_code == 200
    assert b"remaining <span data-field=\"remaining\">1</span>" in page.content
    assert f"/api/email-campaigns/{send.campaign_id}/progress/".encode() in page.content


def test_analyst_cannot_pause(logged_in):
    send = EmailCampaignFactory()
    response = logged_in(ANALYST).post(f"/email/campaigns/{send.campaign_id}/action", {"action": "cancel"})
    assert response.status_code == 403


def test_cancel_asks_for_confirmation_first(logged_in):
    send = EmailCampaignFactory()
    client = logged_in(MARKETER)
    first = client.post(f"/email/campaigns/{send.campaign_id}/action", {"action": "cancel"})
    assert first.status_code == 302 and first["Location"].endswith("?confirm=cancel")
    send.refresh_from_db()
    assert send.status == SendStatus.DRAFT
    assert b"Yes, cancel" in client.get(first["Location"]).content
    client.post(f"/email/campaigns/{send.campaign_id}/action", {"action": "cancel", "confirmed": "yes"})
    send.refresh_from_db()
    assert send.status == SendStatus.CANCELED
