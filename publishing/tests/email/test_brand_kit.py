"""Brand kit, stored base layouts and MJML templates: rendered in the sandbox, checked like any template,
sent through a real SMTP server."""

import pytest
from auditlog.models import LogEntry

from aicmo_site.errors import ConflictError, DomainError
from crm.tests.factories import ContactFactory
from media.choices import AssetStatusChoices
from media.tests.factories import AssetFactory
from publishing.checks import PASS, unsubscribe_check
from publishing.email.brand import STARTER_LAYOUT
from publishing.email.choices import TemplateFormat
from publishing.email.composing import hrefs_in, trackable_urls
from publishing.email.models import BrandKit, EmailTemplate
from publishing.email.sender import worker_run
from publishing.email.services import email_campaign_checklist, email_template_preview
from publishing.email.services.brand import (
    brand_kit_update,
    email_layout_create,
    email_layout_delete,
    email_layout_update,
)
from publishing.email.services.templates import email_template_create, email_template_update
from publishing.tests.email.factories import smtp_account
from publishing.tests.email.helpers import campaign_for, started

pytestmark = pytest.mark.django_db

MJML_BODY = """<mjml><mj-body>
  <mj-section><mj-column>
    <mj-text>Hi {{ contact.first_name|default:"there" }},</mj-text>
    {% if contact.city %}<mj-text>News from {{ contact.city }}.</mj-text>{% endif %}
    <mj-button href="https://example.org/launch">Read the launch post</mj-button>
    <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
  </mj-column></mj-section>
</mj-body></mjml>"""

MJML_LAYOUT = """<mjml><mj-body background-color="{{ brand.colours.background }}">
  <mj-section background-color="{{ brand.colours.primary }}"><mj-column>
    {% block header %}<mj-image src="{{ brand.logo_url }}" alt="{{ brand.logo_alt }}" width="120px" />{% endblock %}
  </mj-column></mj-section>
  <mj-section><mj-column>{% block content %}<mj-text>Nothing yet.</mj-text>{% endblock %}</mj-column></mj-section>
  <mj-section><mj-column><mj-text>{% block footer %}{{ brand.footer_address }}{% endblock %}
    <a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section>
</mj-body></mjml>"""


def mjml_template(**fields) -> EmailTemplate:
    return email_template_create(**{"name": "Launch", "subject": "Hi {{ contact.first_name }}",
                                    "format": TemplateFormat.MJML, "html_body": MJML_BODY, **fields})


def test_an_mjml_template_renders_in_the_sandbox_as_responsive_html_with_a_text_part():
    template = mjml_template()
    contact = ContactFactory(first_name="Ana", city="Porto")

    rendered = email_template_preview(template=template, contact=contact)

    assert "mj-column-per-100" in rendered.html  # MJML's responsive columns, compiled
    assert "<mj-" not in rendered.html
    assert "Hi Ana," in rendered.html and "News from Porto." in rendered.html
    assert "Hi Ana," in rendered.text and "News from Porto." in rendered.text
    assert "Read the launch post (https://example.org/launch)" in rendered.text
    assert "{%" not in rendered.text and "mso" not in rendered.text


def test_the_compiled_html_passes_the_link_and_unsubscribe_checks():
    rendered = email_template_preview(template=mjml_template(), contact=ContactFactory(first_name="Ana"))

    assert unsubscribe_check(rendered.html).outcome == PASS
    assert trackable_urls(hrefs_in(rendered.html)) == {"https://example.org/launch"}
    assert f"{'https://aicmo.example'}/u/preview" in rendered.html


def test_the_checklist_reads_the_compiled_body_and_its_layout():
    layout = email_layout_create(name="Brand", format=TemplateFormat.MJML, body=MJML_LAYOUT)
    with_link_in_layout = mjml_template(layout=layout, html_body="{% block content %}<mj-text>Hi</mj-text>"
                                                                 "{% endblock %}")
    without_link = mjml_template(name="No way out", html_body=MJML_BODY.replace("{{ unsubscribe_url }}", "#"))

    def unsubscribe_ok(template):
        items = email_campaign_checklist(campaign_for([ContactFactory()], template=template))
        return {item["key"]: item["ok"] for item in items}

    assert unsubscribe_ok(with_link_in_layout) == {**unsubscribe_ok(with_link_in_layout), "unsubscribe_link": True,
                                                   "template": True}
    assert unsubscribe_ok(without_link)["unsubscribe_link"] is False


@pytest.mark.parametrize("body, message", [
    ("<mjml><mj-body><mj-section></mjml>", "The MJML cannot be compiled"),
    ("<p>Plain HTML is not MJML</p>", "The MJML cannot be compiled"),
    ('<mjml><mj-body><mj-include path="/etc/passwd" /></mj-body></mjml>', "unable to load included template"),
])
def test_mjml_that_does_not_compile_is_refused_on_the_body(body, message):
    with pytest.raises(DomainError) as refused:
        mjml_template(html_body=body)
    assert refused.value.extra == {"field": "html_body"}
    assert message in refused.value.message
    assert not EmailTemplate.objects.exists()


def test_the_api_answers_an_mjml_compile_error_with_a_400_on_the_field(api_as):
    client = api_as("Marketer")
    response = client.post("/api/email-templates/", {"name": "Broken", "subject": "Hi", "format": "mjml",
                                                     "html_body": "<mjml><mj-body>"}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"] == {"field": "html_body"}

    ok = client.post("/api/email-templates/", {"name": "Fine", "subject": "Hi", "format": "mjml",
                                               "html_body": MJML_BODY}, format="json")
    assert ok.status_code == 201, ok.json()
    assert ok.json()["format"] == "mjml"


def test_the_template_page_shows_an_mjml_compile_error_on_the_body(logged_in):
    response = logged_in("Marketer").post("/email/templates/new/", {
        "name": "Broken", "subject": "Hi", "format": "mjml", "html_body": "<mjml><mj-body>"})
    assert response.status_code == 200
    assert "The MJML cannot be compiled" in str(response.context["form"].errors["html_body"])


def test_a_send_of_an_mjml_template_delivers_html_and_text_parts(smtp_server):
    smtp_account(smtp_server)
    contact = ContactFactory(first_name="Zoë", city="Lyon")
    email_campaign = campaign_for([contact], template=mjml_template())

    started(email_campaign)
    assert worker_run(email_campaign_id=email_campaign.pk).sent == 1

    (mail,) = smtp_server.messages
    message = mail.message()
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "Hi Zoë," in parts["text/plain"] and "News from Lyon." in parts["text/plain"]
    assert "mj-column-per-100" in parts["text/html"] and "Hi Zoë," in parts["text/html"]
    # The button's link is tracked like any other; the unsubscribe link is the delivery's own.
    assert "https://aicmo.example/t/c/" in parts["text/html"] and "https://aicmo.example/u/" in parts["text/html"]


def test_a_template_fills_the_blocks_of_its_layout_and_keeps_the_defaults_of_the_others():
    layout = email_layout_create(name="Plain", format=TemplateFormat.HTML, body=(
        "<html><body><header>{% block header %}Acme{% endblock %}</header>"
        "<main>{% block content %}Nothing yet{% endblock %}</main>"
        '<footer>{% block footer %}<a href="{{ unsubscribe_url }}">Unsubscribe</a>{% endblock %}</footer>'
        "</body></html>"))
    template = email_template_create(name="News", subject="News", layout=layout, html_body=(
        "{# only the content and the footer change #}"
        "{% block content %}<p>Hi {{ contact.first_name }}</p>{% endblock %}"
        "{% block footer %}<p>Sent to {{ contact.email }}</p>{{ block.super }}{% endblock footer %}"))

    html = email_template_preview(template=template, contact=ContactFactory(first_name="Ana",
                                                                            email="ana@example.org")).html

    assert html == ('<html><body><header>Acme</header><main><p>Hi Ana</p></main><footer><p>Sent to ana@example.org'
                    '</p><a href="https://aicmo.example/u/preview">Unsubscribe</a></footer></body></html>')


@pytest.mark.parametrize("body", [
    '{% extends "base.html" %}{% block content %}x{% endblock %}',
    '{% extends "/etc/passwd" %}',
    '{% extends "../../aicmo_site/settings/base.py" %}',
    "{% block content %}a block without a layout{% endblock %}",
    '{% include "base.html" %}',
])
def test_extending_or_including_a_file_is_refused(body):
    with pytest.raises(DomainError) as refused:
        email_template_create(name="Sneaky", subject="Hi", html_body=body)
    assert refused.value.extra == {"field": "html_body"}


def test_a_layout_cannot_extend_a_file_either():
    with pytest.raises(DomainError, match="extends"):
        email_layout_create(name="Sneaky", body='{% extends "base.html" %}{% block content %}{% endblock %}')


def test_only_a_stored_layout_can_be_extended(api_as):
    client = api_as("Marketer")
    other = email_template_create(name="Not a layout", subject="Hi", html_body="<p>Hi</p>")
    response = client.post("/api/email-templates/", {"name": "Child", "subject": "Hi", "layout": other.pk + 1000,
                                                     "html_body": "{% block content %}x{% endblock %}"},
                           format="json")
    assert response.status_code == 400
    assert "layout" in response.json()["fields"]


@pytest.mark.parametrize("body, message", [
    ("<p>outside</p>{% block content %}x{% endblock %}", "is outside any block"),
    ("{% block contnet %}x{% endblock %}", "no block named contnet; its blocks are content"),
    ("{% block content %}x", "is not closed"),
    ("{% block content %}x{% endblock %}{% block content %}y{% endblock %}", "appears twice"),
])
def test_a_body_that_does_not_fit_its_layout_is_refused_with_the_reason(body, message):
    layout = email_layout_create(name="Plain", body="<div>{% block content %}{% endblock %}</div>")
    with pytest.raises(DomainError, match=message):
        email_template_create(name="Child", subject="Hi", layout=layout, html_body=body)


def test_a_layout_and_its_templates_must_share_their_format():
    layout = email_layout_create(name="Responsive", format=TemplateFormat.MJML, body=MJML_LAYOUT)
    with pytest.raises(DomainError) as refused:
        email_template_create(name="Child", subject="Hi", layout=layout, html_body="{% block content %}{% endblock %}")
    assert refused.value.extra == {"field": "layout"}


def test_a_layout_change_that_would_break_its_templates_is_refused_and_one_in_use_cannot_be_deleted():
    layout = email_layout_create(name="Plain", body="<div>{% block content %}{% endblock %}</div>")
    email_template_create(name="Child", subject="Hi", layout=layout, html_body="{% block content %}x{% endblock %}")

    with pytest.raises(DomainError, match="“Child”"):
        email_layout_update(layout=layout, body="<div>{% block main %}{% endblock %}</div>")
    with pytest.raises(ConflictError, match="layout of 1 template"):
        email_layout_delete(layout=layout)
    layout.refresh_from_db()
    assert layout.body == "<div>{% block content %}{% endblock %}</div>"


def approved_logo():
    return AssetFactory(status=AssetStatusChoices.APPROVED, alt_text="Acme's logo")


def test_the_brand_kit_is_applied_to_every_template_and_its_layout(settings):
    logo = approved_logo()
    brand_kit_update(name="Acme", logo=logo, primary_colour="#112233", background_colour="#fafafa",
                     footer_address="1 Harbour Street, Leith", linkedin_url="https://www.linkedin.com/company/acme")
    layout = email_layout_create(name="Brand", format=TemplateFormat.MJML, body=MJML_LAYOUT)
    template = mjml_template(layout=layout, html_body=(
        '{% block content %}<mj-text color="{{ brand.colours.primary }}">Hi {{ contact.first_name }}</mj-text>'
        "{% for link in brand.social_links %}<mj-text>{{ link.name }}: {{ link.url }}</mj-text>{% endfor %}"
        "{% endblock %}"))

    rendered = email_template_preview(template=template, contact=ContactFactory(first_name="Ana"))

    assert f'src="https://aicmo.example{logo.file.url}"' in rendered.html
    assert 'alt="Acme&#x27;s logo"' in rendered.html
    assert "background-color:#112233" in rendered.html and "color:#112233" in rendered.html
    assert "1 Harbour Street, Leith" in rendered.html and "1 Harbour Street, Leith" in rendered.text
    assert "LinkedIn: https://www.linkedin.com/company/acme" in rendered.text
    # A plain HTML template without a layout reads the same variables.
    plain = email_template_create(name="Plain", subject="{{ brand.name }} news",
                                  html_body="<p style=\"color:{{ brand.colours.primary }}\">Hi</p>")
    assert email_template_preview(template=plain).subject == "Acme news"


def test_the_logo_must_be_an_approved_image_and_a_withdrawn_one_leaves_the_emails():
    with pytest.raises(DomainError) as refused:
        brand_kit_update(logo=AssetFactory(status=AssetStatusChoices.IN_REVIEW))
    assert refused.value.extra == {"field": "logo"}
    assert not BrandKit.objects.exists()

    logo = approved_logo()
    brand_kit_update(logo=logo)
    logo.status = AssetStatusChoices.ARCHIVED
    logo.save()
    template = email_template_create(name="T", subject="Hi", html_body='<img src="{{ brand.logo_url }}" alt="">')
    assert 'src=""' in email_template_preview(template=template).html


def test_brand_kit_colours_and_fonts_are_checked():
    with pytest.raises(Exception, match="#rrggbb"):
        brand_kit_update(primary_colour="red")
    with pytest.raises(Exception, match="Font names"):
        brand_kit_update(body_font='Arial;}</style><script>')


def test_the_brand_kit_api_reads_and_changes_it_and_each_change_is_audited(api_as):
    logo = approved_logo()
    marketer = api_as("Marketer")

    defaults = marketer.get("/api/brand-kit/").json()  # before any save
    assert (defaults["primary_colour"], defaults["updated_at"]) == ("#1a56db", None)
    schema = marketer.get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["BrandKit"]["properties"]["updated_at"].get("nullable") is True
    response = marketer.patch("/api/brand-kit/", {"name": "Acme", "logo": logo.pk, "primary_colour": "#123456"},
                              format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["variables"]["colours"]["primary"] == "#123456"
    assert response.json()["variables"]["logo_url"].endswith(logo.file.url)
    kit = BrandKit.objects.get()
    assert kit.updated_by == marketer.user
    marketer.patch("/api/brand-kit/", {"primary_colour": "#654321"}, format="json")
    created, changed = LogEntry.objects.get_for_object(kit).order_by("pk")
    assert created.changes_dict["primary_colour"] == ["None", "#123456"]
    assert changed.changes_dict == {"primary_colour": ["#123456", "#654321"]}
    assert changed.actor == marketer.user
    assert api_as("Analyst").patch("/api/brand-kit/", {"name": "No"}, format="json").status_code == 403
    bad = marketer.patch("/api/brand-kit/", {"primary_colour": "blue"}, format="json")
    assert bad.status_code == 400 and "primary_colour" in bad.json()["fields"]


def test_layouts_are_written_through_the_api(api_as):
    client = api_as("Marketer")
    response = client.post("/api/email-layouts/", {"name": "Brand", "format": "mjml", "body": MJML_LAYOUT},
                           format="json")
    assert response.status_code == 201, response.json()
    broken = client.patch(f"/api/email-layouts/{response.json()['id']}/", {"body": "<mjml><mj-body>"}, format="json")
    assert broken.status_code == 400
    assert broken.json()["extra"] == {"field": "body"}


def test_a_template_can_change_its_layout_through_the_service():
    first = email_layout_create(name="First", body="<div>{% block content %}{% endblock %}</div>")
    second = email_layout_create(name="Second", body="<section>{% block content %}{% endblock %}</section>")
    template = email_template_create(name="T", subject="Hi", layout=first, html_body="{% block content %}x"
                                                                                      "{% endblock %}")
    email_template_update(template=template, layout=second)
    assert email_template_preview(template=template).html == "<section>x</section>"


def test_the_starter_layout_dresses_a_template_in_the_brand_kit():
    brand_kit_update(name="Acme", logo=approved_logo(), primary_colour="#112233", text_colour="#222222",
                     footer_address="1 Harbour Street\nLeith", instagram_url="https://instagram.com/acme")
    layout = email_layout_create(name="Brand", format=TemplateFormat.MJML, body=STARTER_LAYOUT)
    template = mjml_template(layout=layout, html_body="{% block content %}<mj-text>Big news, "
                                                      "{{ contact.first_name }}</mj-text>{% endblock %}")

    rendered = email_template_preview(template=template, contact=ContactFactory(first_name="Ana"))

    assert "Big news, Ana" in rendered.html and "Write the email here" not in rendered.html
    assert "background-color:#112233" in rendered.html and "color:#222222" in rendered.html
    assert 'alt="Acme&#x27;s logo"' in rendered.html
    assert '<span style="white-space:pre-line">1 Harbour Street\nLeith</span>' in rendered.html
    assert '<a href="https://instagram.com/acme">Instagram</a>' in rendered.html
    assert unsubscribe_check(rendered.html).outcome == PASS
    assert "1 Harbour Street\nLeith" in rendered.text and "Instagram (https://instagram.com/acme)" in rendered.text
