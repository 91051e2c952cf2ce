from datetime import timedelta

import pytest
from django.utils import timezone

from aicmo_site.roles import ANALYST, MARKETER
from crm.models import Contact
from crm.tests.factories import ContactFactory, ContactListFactory, SegmentFactory
from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from publishing.choices import CampaignStatus
from publishing.email import services
from publishing.email.choices import ABMetric, SendStatus
from publishing.email.models import EmailCampaign
from publishing.email.services.campaigns import audience_queryset
from publishing.email.tasks import email_wake_sends
from publishing.services import campaign_activate, campaign_create
from publishing.tests.email.factories import EmailTemplateFactory
from publishing.tests.factories import ChannelFactory, ContentFactory, approve

pytestmark = pytest.mark.django_db
KEEN = {"op": "and", "rules": [{"field": "engagement_score", "operator": "gte", "value": 60}]}


@pytest.fixture
def sender():
    return ProviderAccount.objects.create(capability=Capability.EMAIL_SENDING, adapter="smtp", name="Our SMTP",
                                          settings={"host": "127.0.0.1", "port": 2525,
                                                    "from_email": "news@aicmo.example"})


@pytest.fixture
def keen():
    for n in range(4):
        ContactFactory(email=f"keen{n}@a.io", engagement_score=80)
    return SegmentFactory(name="Keen", rules=KEEN)


def _later(hours=2):
    return (timezone.localtime() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def _post(template, sender, keen, **extra):
    return {"name": "Spring news", "template": template.pk, "sender": sender.pk, "segments": [keen.pk],
            "test_share": 50, "metric": "open_rate", "wait_hours": 4, "automatic": "yes", "when": "now", **extra}


def test_form_offers_only_real_senders_and_counts_the_audience(logged_in, sender, keen,
                                                                django_assert_num_queries):
    ProviderAccount.objects.create(capability=Capability.EMAIL_SENDING, adapter="noop_email_sending",
                                   name="Placeholder", settings={"from_email": "no@x.io"})
    ProviderAccount.objects.create(capability=Capability.EMAIL_SENDING, adapter="smtp", name="Off", enabled=False,
                                   settings={"from_email": "off@x.io"})
    EmailTemplateFactory(name="Monthly")
    client = logged_in(MARKETER)
    ContactListFactory(name="Webinar guests")
    # Fixed however many segments, lists, templates and accounts: segment and list sizes are counted in one
    # query each; each list picker adds its two queries, not one per list.
    with django_assert_num_queries(22):
        page = client.get("/email/campaigns/new/")
    text = page.content.decode()
    assert "news@aicmo.example (Our SMTP)" in text and "Placeholder" not in text and "off@x.io" not in text
    assert "Keen (4 members)" in text and "Monthly" in text and 'id="no-sender"' not in text
    assert "Webinar guests (0 members)" in text and 'name="exclude_lists"' in text


def test_a_send_goes_to_its_lists_less_the_list_left_out(logged_in, sender, keen):
    people = list(Contact.objects.order_by("email"))
    guests = ContactListFactory(name="Guests", members=people[:3])
    staff = ContactListFactory(name="Staff", members=people[:1])
    response = logged_in(MARKETER).post("/email/campaigns/new/", {
        **_post(EmailTemplateFactory(), sender, keen), "segments": [], "lists": [guests.pk],
        "exclude_lists": [staff.pk]})
    assert response.status_code == 302
    send = EmailCampaign.objects.select_related("campaign").get()
    assert send.campaign.audience == {"list_ids": [guests.pk], "exclude_list_ids": [staff.pk]}
    assert sorted(audience_queryset(send.campaign).values_list("email", flat=True)) == ["keen1@a.io", "keen2@a.io"]


def test_without_a_real_sender_the_form_says_so(logged_in):
    page = logged_in(MARKETER).get("/email/campaigns/new/")
    assert 'id="no-sender"' in page.content.decode()


def test_a_send_on_its_own_makes_its_campaign_and_asks_to_confirm(logged_in, sender, keen):
    template = EmailTemplateFactory()
    response = logged_in(MARKETER).post("/email/campaigns/new/", _post(
        template, sender, keen, subject="Spring is here", preheader="Three new things", from_name="AICMO"))
    send = EmailCampaign.objects.select_related("campaign").get()
    assert response["Location"] == f"/email/campaigns/{send.campaign_id}/?confirm=send"
    assert send.campaign.name == "Spring news" and send.campaign.audience == {"segment_ids": [keen.pk]}
    assert (send.from_email, send.from_name, send.subject, send.preheader) == (
        "news@aicmo.example", "AICMO", "Spring is here", "Three new things")
    assert send.status == SendStatus.DRAFT and not hasattr(send, "ab_test")


def test_a_subject_test_makes_variants_from_the_send_and_its_settings(logged_in, sender, keen):
    template = EmailTemplateFactory(subject="Template subject")
    logged_in(MARKETER).post("/email/campaigns/new/", _post(
        template, sender, keen, ab_test="subject", subject_b="Other subject", metric="click_rate",
        wait_hours=2, automatic="no"))
    test = EmailCampaign.objects.get().ab_test
    assert [(v.label, v.subject, v.template_id) for v in test.variants.all()] == [
        ("A", "Template subject", None), ("B", "Other subject", None)]
    assert (test.metric, test.test_share, test.wait_minutes, test.automatic) == (ABMetric.CLICK_RATE, 50, 120, False)


def test_a_template_test_and_the_problems_named_in_plain_words(logged_in, sender, keen):
    template, other = EmailTemplateFactory(), EmailTemplateFactory()
    client = logged_in(MARKETER)
    refused = client.post("/email/campaigns/new/", _post(template, sender, keen, name="", ab_test="template",
                                                        template_b=template.pk, when="later"))
    errors = refused.context["form"].errors
    assert errors["name"] == ["Name the new campaign, or choose an existing one."]
    assert errors["template_b"] == ["Choose a template other than the send's own."]
    assert errors["send_at"] == ["Give the date and time to send at."]
    client.post("/email/campaigns/new/", _post(template, sender, keen, ab_test="template", template_b=other.pk))
    variants = EmailCampaign.objects.get().ab_test.variants.all()
    assert [(v.label, v.template_id) for v in variants] == [("A", template.pk), ("B", other.pk)]


def test_from_a_campaign_page_the_send_keeps_its_campaign_and_audience(logged_in, sender, keen):
    client = logged_in(MARKETER)
    campaign = campaign_create(by=None, name="Launch", starts_at=timezone.now() + timedelta(days=1),
                               audience={"segment_ids": [keen.pk]}, contents=[approve(ContentFactory())],
                               channels=[ChannelFactory()])
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert f"/email/campaigns/new/?campaign={campaign.pk}" in page
    form = client.get(f"/email/campaigns/new/?campaign={campaign.pk}").context["form"]
    assert form["campaign"].value() == campaign.pk and form["segments"].value() == [keen.pk]
    campaign_activate(campaign=campaign)
    data = _post(EmailTemplateFactory(), sender, keen, campaign=campaign.pk, name="")
    client.post("/email/campaigns/new/", data)
    assert EmailCampaign.objects.get().campaign == campaign
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    # Another audience for a campaign under way is refused in words, with nothing half made.
    other = campaign_create(by=None, name="Running", starts_at=timezone.now(), contents=[approve(ContentFactory())],
                            channels=[ChannelFactory()])
    campaign_activate(campaign=other)
    refused = client.post("/email/campaigns/new/", {**data, "campaign": other.pk})
    assert "“Running” is under way: its audience can no longer change." in refused.content.decode()
    assert EmailCampaign.objects.count() == 1


def test_a_scheduled_send_starts_by_itself_when_due(logged_in, sender, keen):
    when = _later()
    response = logged_in(MARKETER).post("/email/campaigns/new/", _post(
        EmailTemplateFactory(), sender, keen, when="later", send_at=when.strftime("%Y-%m-%dT%H:%M")))
    send = EmailCampaign.objects.get()
    assert response["Location"] == f"/email/campaigns/{send.campaign_id}/" and send.send_at == when
    assert services.email_campaigns_start_due(now=when - timedelta(minutes=1)) == 0
    assert services.email_campaigns_start_due(now=when) == 1
    send.refresh_from_db()
    assert send.status == SendStatus.SENDING and send.audience_size == 4


def test_a_scheduled_send_no_longer_ready_stays_a_draft_and_says_why(sender, keen):
    campaign = campaign_create(by=None, name="Soon", audience={"segment_ids": [keen.pk]})
    send = services.email_campaign_set_up(campaign=campaign, template=EmailTemplateFactory(),
                                          from_email="news@aicmo.example")
    services.email_campaign_schedule(email_campaign=send, send_at=_later())
    ProviderAccount.objects.update(enabled=False)
    EmailCampaign.objects.filter(pk=send.pk).update(send_at=timezone.now() - timedelta(minutes=1))
    email_wake_sends()
    send.refresh_from_db()
    assert send.status == SendStatus.DRAFT and send.send_at is None
    note = send.events.first().note
    assert "The scheduled send did not start: Not ready to send: Sending provider configured." in note


def test_scheduling_in_the_past_or_when_not_ready_is_refused(sender):
    campaign = campaign_create(by=None, name="Empty")
    send = services.email_campaign_set_up(campaign=campaign, template=EmailTemplateFactory())
    with pytest.raises(Exception, match="Choose a time in the future"):
        services.email_campaign_schedule(email_campaign=send, send_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(Exception, match="Audience not empty"):
        services.email_campaign_schedule(email_campaign=send, send_at=_later())


def test_analyst_cannot_open_the_form(logged_in):
    assert logged_in(ANALYST).get("/email/campaigns/new/").status_code == 403


def test_preview_shows_each_variant(logged_in, sender, keen):
    template = EmailTemplateFactory(subject="Template subject")
    other = EmailTemplateFactory(name="Bold design", subject="Bold subject")
    client = logged_in(MARKETER)
    client.post("/email/campaigns/new/", _post(template, sender, keen, ab_test="subject", subject="Version one",
                                                subject_b="Version two", subject_c="Version three",
                                                preheader="Short line"))
    send = EmailCampaign.objects.get()
    page = client.get(f"/email/campaigns/{send.campaign_id}/preview/").content.decode()
    for label, subject in (("A", "Version one"), ("B", "Version two"), ("C", "Version three")):
        assert f'id="variant-{label}"' in page and subject in page
    assert page.count("Short line") >= 3
    send.delete()
    client.post("/email/campaigns/new/", _post(template, sender, keen, ab_test="template", template_b=other.pk))
    send = EmailCampaign.objects.get()
    page = client.get(f"/email/campaigns/{send.campaign_id}/preview/").content.decode()
    assert "Variant B · template Bold design" in page and "Bold subject" in page


def test_the_same_audience_in_another_order_leaves_a_running_campaign_alone(sender, keen):
    other = SegmentFactory(name="Another", rules=KEEN)
    campaign = campaign_create(by=None, name="Running", starts_at=timezone.now(),
                               audience={"segment_ids": [other.pk, keen.pk]}, contents=[approve(ContentFactory())],
                               channels=[ChannelFactory()])
    campaign_activate(campaign=campaign)
    send = services.email_send_plan(by=None, campaign=campaign, audience={"segment_ids": [keen.pk, other.pk],
                                                                          "tag_ids": []},
                                    email={"template": EmailTemplateFactory(), "from_email": "news@aicmo.example"})
    assert send.campaign == campaign


def test_a_draft_send_is_edited_in_the_same_form(logged_in, sender, keen):
    template, other = EmailTemplateFactory(subject="Template subject"), EmailTemplateFactory()
    client = logged_in(MARKETER)
    client.post("/email/campaigns/new/", _post(template, sender, keen, ab_test="subject", subject_b="Other",
                                                when="later", send_at=_later().strftime("%Y-%m-%dT%H:%M")))
    send = EmailCampaign.objects.get()
    detail = client.get(f"/email/campaigns/{send.campaign_id}/").content.decode()
    assert f"/email/campaigns/{send.campaign_id}/edit/" in detail
    form = client.get(f"/email/campaigns/{send.campaign_id}/edit/").context["form"]
    assert "campaign" not in form.fields
    assert (form["sender"].value(), form["subject_b"].value(), form["when"].value()) == (sender.pk, "Other", "later")
    data = {key: form[key].value() for key in ("template", "sender", "test_share", "metric", "wait_hours")}
    response = client.post(f"/email/campaigns/{send.campaign_id}/edit/", {
        **data, "segments": [keen.pk], "automatic": "yes", "when": "now", "ab_test": "template",
        "template_b": other.pk, "subject": "New subject"})
    assert response["Location"] == f"/email/campaigns/{send.campaign_id}/?confirm=send"
    send.refresh_from_db()
    assert send.subject == "New subject" and send.send_at is None
    assert [(v.label, v.template_id) for v in send.ab_test.variants.all()] == [("A", template.pk), ("B", other.pk)]
    assert send.events.first().note == "Schedule removed"


def test_a_started_send_cannot_be_edited(logged_in, sender, keen):
    client = logged_in(MARKETER)
    client.post("/email/campaigns/new/", _post(EmailTemplateFactory(), sender, keen))
    send = EmailCampaign.objects.get()
    services.email_campaign_send(email_campaign=send)
    response = client.get(f"/email/campaigns/{send.campaign_id}/edit/", follow=True)
    assert "This send has started: pause or cancel it instead." in response.content.decode()
