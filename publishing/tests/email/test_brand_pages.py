"""The brand kit and layout pages, and the template preview at phone and desktop widths with its
dark-mode check."""

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from media.choices import AssetStatusChoices
from media.tests.factories import AssetFactory
from publishing.email.brand import STARTER_LAYOUT
from publishing.email.choices import TemplateFormat
from publishing.email.dark_mode import NOT_CHECKED, PASS, WARN, dark_mode_findings, dark_preview
from publishing.email.models import BrandKit, EmailLayout
from publishing.email.services.brand import brand_kit_update, email_layout_create
from publishing.email.services.templates import email_template_create

pytestmark = pytest.mark.django_db


def png_asset(*, transparent: bool, name: str):
    image = Image.new("RGBA", (40, 20), (255, 255, 255, 0 if transparent else 255))
    image.putpixel((5, 5), (10, 20, 30, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    content = buffer.getvalue()
    return AssetFactory(name=name, status=AssetStatusChoices.APPROVED, mime_type="image/png",
                        file=ContentFile(content, name=f"{name}.png"), size_bytes=len(content),
                        sha256=hashlib.sha256(content).hexdigest())


def test_the_brand_kit_page_offers_only_approved_images_and_saves_through_the_service(logged_in):
    approved = AssetFactory(name="Acme logo", status=AssetStatusChoices.APPROVED)
    AssetFactory(name="Draft logo", status=AssetStatusChoices.DRAFT)
    client = logged_in("Marketer")

    page = client.get("/email/brand-kit/")
    assert page.status_code == 200
    choices = [label for _value, label in page.context["form"].fields["logo"].choices]
    assert choices == ["No logo", "Acme logo"]

    response = client.post("/email/brand-kit/", {
        "name": "Acme", "logo": approved.pk, "primary_colour": "#112233", "secondary_colour": "#445566",
        "text_colour": "#111111", "background_colour": "#ffffff", "heading_font": "Georgia, serif",
        "body_font": "Arial, sans-serif", "footer_address": "1 Harbour Street, Leith"})
    assert response.status_code == 302
    kit = BrandKit.objects.get()
    assert (kit.logo, kit.primary_colour, kit.footer_address) == (approved, "#112233", "1 Harbour Street, Leith")


def test_a_wrong_colour_is_shown_on_its_field_and_an_analyst_may_only_read(logged_in, client):
    response = logged_in("Marketer").post("/email/brand-kit/", {"primary_colour": "red"})
    assert "#rrggbb" in str(response.context["form"].errors["primary_colour"])
    assert not BrandKit.objects.exists()

    client.logout()
    analyst = logged_in("Analyst")
    assert b'id="read-only"' in analyst.get("/email/brand-kit/").content
    assert analyst.post("/email/brand-kit/", {"name": "No"}).status_code == 403


def test_the_layout_list_costs_the_same_queries_for_any_number_of_layouts(logged_in, django_assert_num_queries):
    client = logged_in("Marketer")
    email_layout_create(name="First", body="<div>{% block content %}{% endblock %}</div>")
    client.get("/email/layouts/")  # sessions and permissions cached
    with django_assert_num_queries(6):
        first = client.get("/email/layouts/")
    for n in range(5):
        email_layout_create(name=f"More {n}", body="<div>{% block content %}{% endblock %}</div>")
    with django_assert_num_queries(6):
        more = client.get("/email/layouts/")
    assert len(first.context["page"].object_list) == 1 and len(more.context["page"].object_list) == 6


def test_a_layout_that_does_not_compile_is_an_error_on_its_body(logged_in):
    client = logged_in("Marketer")
    response = client.post("/email/layouts/new/", {"name": "Brand", "format": "mjml", "body": "<mjml><mj-body>"})
    assert "The MJML cannot be compiled" in str(response.context["form"].errors["body"])
    assert not EmailLayout.objects.exists()

    saved = client.post("/email/layouts/new/", {"name": "Brand", "format": "html",
                                                "body": "<div>{% block content %}{% endblock %}</div>"})
    assert saved.status_code == 302


def test_the_preview_shows_phone_and_desktop_widths_and_flags_what_vanishes_in_dark_mode(logged_in):
    brand_kit_update(logo=png_asset(transparent=False, name="boxed-logo"))
    template = email_template_create(name="T", subject="Hi", html_body=(
        '<html><head><style>@media (prefers-color-scheme: dark) { .card { background: #000 !important; } }</style>'
        '</head><body><img src="{{ brand.logo_url }}" alt="Logo"><p style="color:#333333">Dark text</p>'
        '<table bgcolor="#ffffff"><tr><td style="color:#333333">On its own white</td></tr></table>'
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>'))

    page = logged_in("Marketer").get(f"/email/templates/{template.pk}/preview/")

    html = page.content.decode()
    assert 'data-width="390"' in html and 'data-width="800"' in html
    findings = {(f.key, f.outcome) for f in page.context["dark_findings"]}
    assert findings == {("text", WARN), ("image", WARN)}
    assert "Text in #333333 (1 place)" in html
    assert "“boxed-logo” has no transparent background" in html
    assert "color-scheme: dark" in page.context["dark_html"]
    assert ".card { background: #000 !important; }" in page.context["dark_html"].split("</style>")[-2]


def test_the_dark_mode_check_passes_transparent_logos_and_lists_what_it_cannot_check(settings):
    logo = png_asset(transparent=True, name="clear-logo")
    base = "https://aicmo.example"
    html = (f'<body style="background:#fff"><img src="{base}{logo.file.url}" alt="">'
            '<img src="https://cdn.example/banner.png" alt=""><img src="https://cdn.example/photo.JPG" alt="">'
            '<img src="https://aicmo.example/t/o/x" width="1" height="1" alt=""><p>Text</p></body>')

    findings = [(f.outcome, f.message) for f in dark_mode_findings(html)]

    assert findings == [
        (PASS, "No dark text without a background of its own."),
        (PASS, "“clear-logo” has a transparent background."),
        (NOT_CHECKED, "banner.png: not from the asset library, so not checked."),
        (WARN, "photo.JPG: a JPEG has no transparent background; it shows as a box on a dark background."),
    ]


def test_light_text_and_text_in_the_default_colour_are_not_flagged():
    html = ('<div style="color:#f5f5f5">Light</div><div>Default</div>'
            '<div style="background-color:#fff"><span style="color:#000">On white</span></div>')
    assert [f.outcome for f in dark_mode_findings(html)] == [PASS]


def test_the_dark_preview_applies_only_the_dark_rules():
    html = ('<html><head><style>.a { color: red; } @media screen and (prefers-color-scheme: dark) { .a { color: '
            'white; } .b { color: pink; } } @media (max-width: 480px) { .a { font-size: 1px; } }</style></head>'
            '<body></body></html>')
    injected = dark_preview(html).split("<style>")[-1]
    assert ".a { color: white; } .b { color: pink; }" in injected
    assert "font-size" not in injected and "color: red" not in injected


def test_an_mjml_template_in_the_preview_is_compiled(logged_in):
    template = email_template_create(name="M", subject="Hi", format=TemplateFormat.MJML, html_body=(
        '<mjml><mj-body><mj-section><mj-column><mj-text>Hello</mj-text><mj-text><a href="{{ unsubscribe_url }}">'
        "Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>"))
    page = logged_in("Marketer").get(f"/email/templates/{template.pk}/preview/")
    assert "mj-column-per-100" in page.context["rendered"].html
    # MJML sets black text on no background: flagged for dark mode, honestly.
    assert any(f.outcome == WARN and "#000000" in f.message for f in page.context["dark_findings"])


def test_a_new_layout_starts_from_the_brand_layout_in_mjml(logged_in):
    form = logged_in("Marketer").get("/email/layouts/new/").context["form"]
    assert form["format"].value() == TemplateFormat.MJML
    assert form["body"].value() == STARTER_LAYOUT
