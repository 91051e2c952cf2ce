"""The back-office pages of email templates: list, form through the services, preview as a contact, delete."""

import pytest
from django.utils.html import escape

from aicmo_site.roles import ANALYST, MARKETER
from crm.tests.factories import ContactFactory
from publishing.email.models import EmailTemplate
from publishing.email.rendering import DOCUMENTED_VARIABLES
from publishing.tests.email.factories import HTML_BODY, EmailCampaignFactory, EmailTemplateFactory

pytestmark = pytest.mark.django_db
FIELDS = {"name": "Monthly", "subject": "Hi {{ contact.first_name }}", "preheader": "", "html_body": HTML_BODY,
          "text_body": ""}


def test_list_searches_name_and_subject_and_shows_an_empty_state(logged_in):
    client = logged_in(ANALYST)
    assert b"No email templates yet." in client.get("/email/templates/").content
    EmailTemplateFactory(name="Spring digest")
    EmailTemplateFactory(name="Welcome", subject="Spring is here")
    EmailTemplateFactory(name="Winter")
    page = client.get("/email/templates/", {"q": "spring"})
    assert [t.name for t in page.context["page"].object_list] == ["Spring digest", "Welcome"]
    assert b"match this search" in client.get("/email/templates/", {"q": "nothing"}).content


def test_list_counts_each_template_sends_in_one_query_whatever_the_page_holds(logged_in, django_assert_num_queries):
    client = logged_in(ANALYST)
    used = EmailTemplateFactory(name="A used one")
    EmailCampaignFactory.create_batch(2, template=used)
    EmailTemplateFactory(name="B unused")
    # Session, user, two of permissions, the page's count and its rows: the sends are counted with the rows.
    with django_assert_num_queries(6):
        page = client.get("/email/templates/", {"ordering": "-send_count"})
    assert [(t.name, t.send_count) for t in page.context["page"].object_list] == [("A used one", 2), ("B unused", 0)]
    EmailTemplateFactory.create_batch(30)
    with django_assert_num_queries(6):
        page = client.get("/email/templates/", {"page": 2})
    assert len(page.context["page"].object_list) == 7


def test_nav_and_new_template_link_follow_permissions(logged_in):
    marketer_page = logged_in(MARKETER).get("/email/templates/")
    assert b'href="/email/templates/new/"' in marketer_page.content
    assert b">Email templates</a>" in marketer_page.content
    analyst = logged_in(ANALYST)
    assert b"/email/templates/new/" not in analyst.get("/email/templates/").content
    assert analyst.get("/email/templates/new/").status_code == 403


def test_marketer_creates_a_template_through_the_service(logged_in):
    client = logged_in(MARKETER)
    response = client.post("/email/templates/new/", FIELDS)
    template = EmailTemplate.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/email/templates/{template.pk}/"
    assert template.created_by.username == "user-marketer"
    assert b"Template \xe2\x80\x9cMonthly\xe2\x80\x9d created." in client.get(response["Location"]).content


def test_a_broken_tag_is_an_error_on_its_field_and_nothing_is_saved(logged_in):
    page = logged_in(MARKETER).post("/email/templates/new/", {**FIELDS, "html_body": "<p>{% iff x %}</p>"})
    assert page.status_code == 200
    assert page.context["form"].errors["html_body"][0].startswith("The template cannot be read: Invalid block tag")
    assert not EmailTemplate.objects.exists()


def test_a_tag_outside_the_sandbox_is_refused_on_the_subject(logged_in):
    template = EmailTemplateFactory(subject="Hello")
    page = logged_in(MARKETER).post(f"/email/templates/{template.pk}/", {**FIELDS, "subject": "{% load static %}"})
    assert page.status_code == 200 and "subject" in page.context["form"].errors
    template.refresh_from_db()
    assert template.subject == "Hello"


def test_marketer_edits_a_template(logged_in):
    template = EmailTemplateFactory()
    response = logged_in(MARKETER).post(f"/email/templates/{template.pk}/", {**FIELDS, "name": "Renamed"})
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Renamed" and template.subject == FIELDS["subject"]


def test_analyst_reads_a_template_but_cannot_change_it(logged_in):
    template = EmailTemplateFactory(name="Monthly")
    client = logged_in(ANALYST)
    page = client.get(f"/email/templates/{template.pk}/")
    assert page.status_code == 200 and b"Save</button>" not in page.content and b"Delete template" not in page.content
    assert client.post(f"/email/templates/{template.pk}/", {**FIELDS, "name": "Mine"}).status_code == 403
    assert client.post(f"/email/templates/{template.pk}/delete", {"confirmed": "yes"}).status_code == 403


def test_form_page_says_the_text_body_is_optional_and_lists_the_sends_and_variables(logged_in):
    send = EmailCampaignFactory(campaign__name="Spring news")
    page = logged_in(MARKETER).get(f"/email/templates/{send.template.pk}/")
    assert b"Optional: when empty, it is generated from the HTML body." in page.content
    assert f'href="/email/campaigns/{send.campaign_id}/">Spring news</a>'.encode() in page.content
    assert all(f"<code>{escape(variable)}</code>".encode() in page.content for variable in DOCUMENTED_VARIABLES)


def test_preview_is_the_first_contact_by_default_and_any_contact_by_address(logged_in):
    template = EmailTemplateFactory()
    ContactFactory(email="first@client.example", first_name="Ana")
    ContactFactory(email="ines@client.example", first_name="Ines")
    client = logged_in(ANALYST)

    first = client.get(f"/email/templates/{template.pk}/preview/")
    chosen = client.get(f"/email/templates/{template.pk}/preview/", {"contact": "Ines@Client.example"})

    assert first.context["rendered"].subject == "Hello Ana" and b"Preview as first@client.example" in first.content
    assert chosen.context["rendered"].subject == "Hello Ines"
    # The email's HTML is shown escaped inside a sandboxed srcdoc, never as part of the back office's own page.
    assert b'<iframe title="HTML version" sandbox srcdoc="&lt;' in chosen.content
    assert b"<code>unsubscribe_url</code>" in chosen.content


def test_preview_of_an_unknown_address_says_so_and_without_contacts_uses_sample_data(logged_in):
    template = EmailTemplateFactory()
    page = logged_in(MARKETER).get(f"/email/templates/{template.pk}/preview/", {"contact": "nobody@x.example"})
    assert b"No contact has this address." in page.content
    assert b"Preview with sample data" in page.content and page.context["rendered"].subject == "Hello there"


def test_delete_asks_first_then_deletes(logged_in):
    template = EmailTemplateFactory(name="Old")
    client = logged_in(MARKETER)
    first = client.post(f"/email/templates/{template.pk}/delete")
    assert first.status_code == 200 and b"Delete the template \xe2\x80\x9cOld\xe2\x80\x9d?" in first.content
    assert EmailTemplate.objects.exists()
    response = client.post(f"/email/templates/{template.pk}/delete", {"confirmed": "yes"})
    assert response.status_code == 302 and response["Location"] == "/email/templates/"
    assert not EmailTemplate.objects.exists()


def test_delete_of_a_template_a_send_uses_is_refused_with_a_message(logged_in):
    send = EmailCampaignFactory(campaign__name="Spring news")
    client = logged_in(MARKETER)
    response = client.post(f"/email/templates/{send.template.pk}/delete", {"confirmed": "yes"}, follow=True)
    assert b"is used by 1 send (Spring news): it cannot be deleted." in response.content
    assert EmailTemplate.objects.filter(pk=send.template.pk).exists()
