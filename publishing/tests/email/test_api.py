import pytest

from aicmo_site.roles import ANALYST, MARKETER
from crm import services as crm_services
from crm.tests.factories import ContactFactory
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailBlock, EmailCampaign, EmailTemplate
from publishing.tests.email.factories import (
    EmailBlockFactory,
    EmailDeliveryFactory,
    EmailTemplateFactory,
    smtp_account,
)
from publishing.tests.email.helpers import campaign_for
from publishing.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_marketer_creates_a_template_and_a_broken_one_is_refused_with_field_errors(api_as):
    client = api_as(MARKETER)
    ok = client.post("/api/email-templates/", {"name": "Monthly", "subject": "Hi {{ contact.first_name }}",
                                               "html_body": "<p>{{ unsubscribe_url }}</p>"})
    assert ok.status_code == 201, ok.json()
    bad = client.post("/api/email-templates/", {"name": "Bad", "subject": "Hi", "html_body": "{% include 'x' %}"})
    assert bad.status_code == 400 and bad.json()["code"] == "template_syntax"
    missing = client.post("/api/email-templates/", {"name": "No body"})
    assert missing.status_code == 400 and "html_body" in missing.json()["fields"]
    assert EmailTemplate.objects.count() == 1


def test_analyst_cannot_create_templates(api_as):
    response = api_as(ANALYST).post("/api/email-templates/", {"name": "x", "subject": "y", "html_body": "z"})
    assert response.status_code == 403


def test_preview_with_a_contact(api_as):
    template = EmailTemplateFactory()
    contact = ContactFactory(first_name="Ines")
    response = api_as(MARKETER).post(f"/api/email-templates/{template.pk}/preview/", {"contact": contact.pk})
    assert response.status_code == 200
    assert response.json()["subject"] == "Hello Ines" and "Hi Ines," in response.json()["html"]


def test_test_send_goes_to_the_chosen_addresses(api_as, smtp_server):
    smtp_account(smtp_server)
    template = EmailTemplateFactory()
    response = api_as(MARKETER).post(f"/api/email-templates/{template.pk}/test-send/",
                                     {"to": ["me@aicmo.example", "boss@aicmo.example"]})
    assert response.status_code == 200 and response.json()["sent"] == 2
    assert sorted(smtp_server.recipients()) == ["boss@aicmo.example", "me@aicmo.example"]
    assert smtp_server.messages[0].message()["Subject"].startswith("[Test] ")


def test_campaign_email_actions_send_pause_resume_cancel_and_progress(api_as, smtp_server,
                                                                      django_capture_on_commit_callbacks):
    smtp_account(smtp_server)
    email_campaign = campaign_for([ContactFactory(), ContactFactory()])
    client = api_as(MARKETER)
    base = f"/api/email-campaigns/{email_campaign.campaign_id}"
    checklist = client.get(f"{base}/checklist/").json()
    assert all(item["ok"] for item in checklist)
    with django_capture_on_commit_callbacks() as callbacks:
        sent = client.post(f"{base}/send/")
    assert sent.status_code == 200 and sent.json()["status"] == SendStatus.SENDING
    assert sent.json()["available_actions"] == ["pause", "cancel"]
    assert len(callbacks) == 1  # the workers are woken after commit
    assert client.post(f"{base}/send/").status_code == 409
    progress = client.get(f"{base}/progress/").json()
    assert progress["total"] == 2 and progress["queued"] == 2 and progress["remaining"] == 2
    assert client.post(f"{base}/pause/", {"note": "check copy"}).json()["status"] == SendStatus.PAUSED
    with django_capture_on_commit_callbacks():
        assert client.post(f"{base}/resume/").json()["status"] == SendStatus.SENDING
    canceled = client.post(f"{base}/cancel/").json()
    assert (canceled["status"], canceled["available_actions"]) == (SendStatus.CANCELED, [])
    assert client.get(f"{base}/progress/").json()["canceled"] == 2


def test_set_up_an_email_campaign_through_the_api(api_as):
    campaign = CampaignFactory()
    template = EmailTemplateFactory()
    response = api_as(MARKETER).post("/api/email-campaigns/", {"campaign": campaign.pk, "template": template.pk,
                                                               "from_email": "news@aicmo.example"})
    assert response.status_code == 201, response.json()
    assert EmailCampaign.objects.get(campaign=campaign).from_email == "news@aicmo.example"


def test_deliveries_are_filtered_and_listed_in_a_fixed_number_of_queries(api_as, django_assert_num_queries):
    client = api_as(ANALYST)
    campaign = CampaignFactory()
    for _ in range(5):
        EmailDeliveryFactory(campaign=campaign)
    EmailDeliveryFactory(campaign=campaign, status=DeliveryStatus.FAILED)
    EmailDeliveryFactory()
    with django_assert_num_queries(4):  # user and group permissions, count, one page with contacts and variants
        response = client.get("/api/deliveries/", {"campaign": campaign.pk})
    assert response.json()["count"] == 6
    failed = client.get("/api/deliveries/", {"campaign": campaign.pk, "status": "failed"}).json()
    assert failed["count"] == 1 and failed["results"][0]["status"] == "failed"
    bad = client.get("/api/deliveries/", {"status": "exploded"})
    assert bad.status_code == 400 and "status" in bad.json()["fields"]


def test_marketer_writes_blocks_through_the_api_and_a_broken_one_is_refused(api_as):
    client, template = api_as(MARKETER), EmailTemplateFactory()
    topic = crm_services.topic_create(name="AI", slug="ai")

    created = client.post("/api/email-blocks/", {"template": template.pk, "slot": "articles", "title": "Agents",
                                                 "html": "<h2>Agents</h2>", "topics": [topic.pk]}, format="json")
    bad = client.post("/api/email-blocks/", {"template": template.pk, "slot": "articles", "html": "{% if %}"},
                      format="json")
    block = created.json()["id"]
    changed = client.patch(f"/api/email-blocks/{block}/", {"title": "Agents at work", "template": 999},
                           format="json")
    listed = client.get("/api/email-blocks/", {"template": template.pk})

    assert created.status_code == 201, created.json()
    assert created.json()["topics"] == [topic.pk]
    assert bad.status_code == 400 and bad.json()["code"] == "template_syntax"
    assert changed.status_code == 200 and changed.json()["title"] == "Agents at work"
    assert changed.json()["template"] == template.pk and changed.json()["topics"] == [topic.pk]
    assert [b["id"] for b in listed.json()["results"]] == [block]
    assert client.delete(f"/api/email-blocks/{block}/").status_code == 204
    assert not EmailBlock.objects.exists()


def test_analyst_reads_blocks_but_cannot_write_them(api_as):
    block = EmailBlockFactory()
    analyst = api_as(ANALYST)

    assert analyst.get(f"/api/email-blocks/{block.pk}/").status_code == 200
    assert analyst.post("/api/email-blocks/", {"template": block.template_id, "slot": "x", "html": "y"}
                        ).status_code == 403
    assert analyst.delete(f"/api/email-blocks/{block.pk}/").status_code == 403


def test_templates_list_their_blocks_in_a_fixed_number_of_queries(api_as, django_assert_num_queries):
    client = api_as(ANALYST)
    topic = crm_services.topic_create(name="AI", slug="ai")
    for _ in range(3):
        template = EmailTemplateFactory()
        for _ in range(2):
            EmailBlockFactory(template=template).topics.add(topic)

    # user and group permissions, count, templates, blocks, and their tags, segments and topics
    with django_assert_num_queries(8):
        response = client.get("/api/email-templates/")

    templates = response.json()["results"]
    assert [len(t["blocks"]) for t in templates] == [2, 2, 2]
    assert templates[0]["blocks"][0]["topics"] == [topic.pk] and templates[0]["blocks"][0]["slot"] == "articles"
