import pytest
from django.utils import timezone

from aicmo_site.roles import ANALYST, MARKETER
from publishing.email.choices import ABStatus, DeliveryStatus, SendStatus
from publishing.email.models import EmailCampaign
from publishing.email.services.ab_tests import ab_test_create
from publishing.email.services.feedback import inbound_event_apply
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


def test_send_now_asks_for_confirmation_first(logged_in):
    send = EmailCampaignFactory()
    client = logged_in(MARKETER)
    first = client.post(f"/email/campaigns/{send.campaign_id}/action", {"action": "send"})
    assert first.status_code == 302 and first["Location"].endswith("?confirm=send")
    send.refresh_from_db()
    assert send.status == SendStatus.DRAFT
    page = client.get(first["Location"]).content
    assert b"Yes, send now" in page and b"Yes, cancel" not in page


def test_send_page_shows_the_ab_test_and_picking_a_winner_asks_first(logged_in, django_assert_max_num_queries):
    send = EmailCampaignFactory()
    test = ab_test_create(email_campaign=send, variants=[{"label": "A", "subject": "Big news"},
                                                         {"label": "B", "subject": "Small news"}])
    client = logged_in(MARKETER)
    url = f"/email/campaigns/{send.campaign_id}/"
    assert b"Pick as winner" not in client.get(url).content  # not before the send starts
    EmailCampaign.objects.filter(pk=send.pk).update(status=SendStatus.SENDING)
    a, b = test.variants.order_by("label")
    now = timezone.now()
    for variant, opened in ((a, 3), (b, 1)):
        for n in range(4):
            EmailDeliveryFactory(campaign=send.campaign, variant=variant, status=DeliveryStatus.SENT,
                                 message_id=f"<{variant.label}{n}@test>", first_opened_at=now if n < opened else None)
    with django_assert_max_num_queries(16):
        page = client.get(url)
    rows = {result.label: result for result, subject in page.context["ab_results"]}
    assert (rows["A"].recipients, rows["A"].successes, rows["B"].successes) == (4, 3, 1)
    assert b"Big news" in page.content and b"75%" in page.content and b"Pick as winner" in page.content

    ask = client.post(f"{url}action", {"action": "pick_winner", "variant": b.pk})
    assert ask.status_code == 302 and f"pick={b.pk}" in ask["Location"]
    test.refresh_from_db()
    assert test.status == ABStatus.TESTING
    assert b"Yes, pick B" in client.get(ask["Location"]).content
    client.post(f"{url}action", {"action": "pick_winner", "variant": b.pk, "confirmed": "yes"})
    test.refresh_from_db()
    assert (test.status, test.winner_id) == (ABStatus.DECIDED, b.pk)
    assert b"Pick as winner" not in client.get(url).content


def test_a_variant_of_another_send_cannot_be_picked(logged_in):
    send, other = EmailCampaignFactory(), EmailCampaignFactory()
    foreign = ab_test_create(email_campaign=other, variants=[{"label": "A", "subject": "x"},
                                                             {"label": "B", "subject": "y"}])
    client = logged_in(MARKETER)
    client.post(f"/email/campaigns/{send.campaign_id}/action",
                {"action": "pick_winner", "variant": foreign.variants.first().pk, "confirmed": "yes"})
    foreign.refresh_from_db()
    assert foreign.status == ABStatus.TESTING


def test_deliveries_of_another_send_are_not_listed_on_a_send_page(logged_in, django_assert_max_num_queries):
    send, other = EmailCampaignFactory(), EmailCampaignFactory()
    EmailDeliveryFactory(campaign=send.campaign, contact__email="mine@example.com")
    EmailDeliveryFactory(campaign=other.campaign, contact__email="theirs@example.com")
    client = logged_in(ANALYST)
    with django_assert_max_num_queries(13):  # 13th: the change history
        page = client.get(f"/email/campaigns/{send.campaign_id}/", {"campaign": other.campaign_id})
    assert b"mine@example.com" in page.content and b"theirs@example.com" not in page.content


def test_send_list_search_with_a_nul_character_is_not_an_error(logged_in):
    EmailCampaignFactory(campaign__name="Autumn")
    page = logged_in(ANALYST).get("/email/campaigns/", {"q": "Autu\x00mn"})
    assert page.status_code == 200 and b"Autumn" in page.content


def test_deliveries_filter_by_every_status_opened_clicked_and_variant(logged_in):
    send = EmailCampaignFactory()
    test = ab_test_create(email_campaign=send, variants=[{"label": "A", "subject": "x"},
                                                         {"label": "B", "subject": "y"}])
    a, b = test.variants.order_by("label")
    EmailDeliveryFactory(campaign=send.campaign, contact__email="opened@example.com", variant=a,
                         status=DeliveryStatus.SENT, message_id="<1@test>", first_opened_at=timezone.now())
    EmailDeliveryFactory(campaign=send.campaign, contact__email="skipped@example.com", variant=b,
                         status=DeliveryStatus.SKIPPED)
    client = logged_in(ANALYST)
    url = f"/email/campaigns/{send.campaign_id}/"
    page = client.get(url)
    assert b'<option value="skipped"' in page.content and b'name="variant"' in page.content

    def emails(**query):
        return {delivery.contact.email for delivery in client.get(url, query).context["page"]}

    assert emails(status="skipped") == {"skipped@example.com"}
    assert emails(opened="true") == {"opened@example.com"}
    assert emails(opened="false") == {"skipped@example.com"}
    assert emails(variant=b.pk) == {"skipped@example.com"}


def test_send_list_shows_each_send_progress_in_one_more_query(logged_in, django_assert_num_queries):
    def sending(name, sent, waiting):
        send = EmailCampaignFactory(campaign__name=name, status=SendStatus.SENDING, audience_size=sent + waiting)
        for n in range(sent):
            EmailDeliveryFactory(campaign=send.campaign, status=DeliveryStatus.SENT, message_id=f"<{name}{n}@t>")
        EmailDeliveryFactory.create_batch(waiting, campaign=send.campaign)
        return send

    sending("Spring", 3, 1)
    EmailCampaignFactory(campaign__name="Draft one")
    EmailCampaignFactory(campaign__name="Done", status=SendStatus.COMPLETED, audience_size=2)
    client = logged_in(ANALYST)
    with django_assert_num_queries(7):
        page = client.get("/email/campaigns/")
    percents = {send.campaign.name: send.percent for send in page.context["page"]}
    assert percents == {"Spring": 75, "Draft one": None, "Done": 100}
    assert b'aria-valuenow="75"' in page.content
    sending("Autumn", 1, 1)
    with django_assert_num_queries(7):
        client.get("/email/campaigns/")


def test_delivery_page_shows_what_came_back_classified_and_only_under_its_own_send(logged_in,
                                                                                   django_assert_max_num_queries):
    send, other = EmailCampaignFactory(), EmailCampaignFactory()
    delivery = EmailDeliveryFactory(campaign=send.campaign, contact__email="full@example.org",
                                    status=DeliveryStatus.SENT, message_id="<d1@test>")
    client = logged_in(ANALYST)
    url = f"/email/campaigns/{send.campaign_id}/deliveries/{delivery.pk}/"
    assert b"Nothing came back about this email" in client.get(url).content
    assert b"Not suppressed" in client.get(url).content
    inbound_event_apply(source="inbox:1", event_id="<b1@mx>", kind="bounce", message_ids=("<d1@test>",),
                        email="full@example.org", bounce_type="soft",
                        detail={"status": "5.2.2", "diagnostic": "552 5.2.2 Mailbox full", "subject": "Undelivered"})
    with django_assert_max_num_queries(10):
        page = client.get(url)
    row = page.content.decode().split('id="inbound-events"')[1]
    assert all(text in row for text in ("Bounce", "full@example.org", "soft", "5.2.2", "552 5.2.2 Mailbox full"))
    assert client.get(f"/email/campaigns/{other.campaign_id}/deliveries/{delivery.pk}/").status_code == 404
    assert client.get(f"/email/campaigns/{send.campaign_id}/").context["feedback"].soft_bounces == 1
