import pytest

from crm import services as crm_services
from publishing.email.choices import SendStatus
from publishing.email.models import EmailBlock, EmailTemplate
from publishing.tests.email.factories import EmailCampaignFactory, EmailDeliveryFactory, EmailTemplateFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["emailtemplate", "emailcampaign", "emaildelivery", "abtest", "inboundevent"])
def test_admin_lists_open(admin_client, model):
    EmailDeliveryFactory()
    assert admin_client.get(f"/admin/publishing/{model}/").status_code == 200


def test_admin_shows_a_sends_progress(admin_client):
    email_campaign = EmailCampaignFactory()
    EmailDeliveryFactory(campaign=email_campaign.campaign)
    page = admin_client.get(f"/admin/publishing/emailcampaign/{email_campaign.pk}/change/")
    assert page.status_code == 200 and b"remaining 1" in page.content


def test_admin_template_with_broken_syntax_is_a_form_error(admin_client):
    response = admin_client.post("/admin/publishing/emailtemplate/add/", {
        "name": "Broken", "subject": "Hi", "html_body": "{% load evil %}", "preheader": "", "text_body": "",
        "blocks-TOTAL_FORMS": "0", "blocks-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and b"cannot be read" in response.content
    assert not EmailTemplate.objects.exists()


def test_admin_creates_a_template_through_the_service(admin_client, admin_user):
    response = admin_client.post("/admin/publishing/emailtemplate/add/", {
        "name": "Fine", "subject": "Hi", "html_body": "<p>{{ unsubscribe_url }}</p>", "preheader": "",
        "text_body": "", "blocks-TOTAL_FORMS": "0", "blocks-INITIAL_FORMS": "0"})
    assert response.status_code == 302
    assert EmailTemplate.objects.get().created_by == admin_user


def test_admin_pause_action_refuses_a_draft_with_a_message(admin_client):
    email_campaign = EmailCampaignFactory(template=EmailTemplateFactory())
    response = admin_client.post("/admin/publishing/emailcampaign/", {
        "action": "pause_selected", "_selected_action": [email_campaign.pk]}, follow=True)
    assert b"cannot become paused" in response.content
    email_campaign.refresh_from_db()
    assert email_campaign.status == SendStatus.DRAFT


def _template_form(template, **blocks):
    return {"name": template.name, "subject": template.subject, "html_body": template.html_body,
            "preheader": "", "text_body": "", "blocks-TOTAL_FORMS": "1", "blocks-INITIAL_FORMS": "0", **blocks}


def test_admin_blocks_are_written_through_the_services(admin_client, monkeypatch):
    from publishing.email import services

    template, calls = EmailTemplateFactory(), []

    def spy(name):
        service = getattr(services, name)

        def called(*args, **kwargs):
            calls.append(name)
            return service(*args, **kwargs)
        return called

    for name in ("email_block_create", "email_block_update", "email_block_delete"):
        monkeypatch.setattr(services, name, spy(name))
    topic = crm_services.topic_create(name="AI", slug="ai")
    url = f"/admin/publishing/emailtemplate/{template.pk}/change/"

    added = admin_client.post(url, _template_form(template, **{
        "blocks-0-slot": "articles", "blocks-0-title": "Agents", "blocks-0-html": "<h2>Agents</h2>",
        "blocks-0-position": "0", "blocks-0-topics": [topic.pk]}))
    block = EmailBlock.objects.get()
    changed = admin_client.post(url, _template_form(template, **{
        "blocks-INITIAL_FORMS": "1", "blocks-0-id": block.pk, "blocks-0-template": template.pk,
        "blocks-0-slot": "articles", "blocks-0-title": "Agents at work", "blocks-0-html": "<h2>Agents</h2>",
        "blocks-0-position": "0", "blocks-0-topics": [topic.pk]}))
    deleted = admin_client.post(url, _template_form(template, **{
        "blocks-INITIAL_FORMS": "1", "blocks-0-id": block.pk, "blocks-0-template": template.pk,
        "blocks-0-slot": "articles", "blocks-0-html": "<h2>Agents</h2>", "blocks-0-position": "0",
        "blocks-0-DELETE": "on"}))

    assert [added.status_code, changed.status_code, deleted.status_code] == [302, 302, 302]
    assert calls == ["email_block_create", "email_block_update", "email_block_delete"]
    assert not EmailBlock.objects.exists()


def test_admin_block_with_broken_syntax_is_a_form_error(admin_client):
    template = EmailTemplateFactory()

    response = admin_client.post(f"/admin/publishing/emailtemplate/{template.pk}/change/", _template_form(
        template, **{"blocks-0-slot": "articles", "blocks-0-html": "{% load evil %}", "blocks-0-position": "0"}))

    assert response.status_code == 200 and b"cannot be read" in response.content
    assert not EmailBlock.objects.exists()


def test_admin_adds_a_template_with_a_block(admin_client):
    response = admin_client.post("/admin/publishing/emailtemplate/add/", {
        "name": "Fine", "subject": "Hi", "html_body": "<p>{{ blocks.articles }} {{ unsubscribe_url }}</p>",
        "preheader": "", "text_body": "", "blocks-TOTAL_FORMS": "1", "blocks-INITIAL_FORMS": "0",
        "blocks-0-slot": "articles", "blocks-0-html": "<h2>For everyone</h2>", "blocks-0-position": "0"})

    assert response.status_code == 302
    assert EmailBlock.objects.get().template == EmailTemplate.objects.get()
