"""The brand kit, layouts and an MJML template's preview in a real browser, at a laptop's width and a
phone's: the two-column MJML stacks in the 390 px frame and sits side by side in the 800 px one, the
dark-mode check is shown, nothing is wider than the screen and axe-core finds nothing."""

import pytest

from media.choices import AssetStatusChoices
from media.tests.factories import AssetFactory
from publishing.email.choices import TemplateFormat
from publishing.email.services.brand import brand_kit_update, email_layout_create
from publishing.email.services.templates import email_template_create
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAYOUT = """<mjml><mj-body background-color="{{ brand.colours.background }}">
  <mj-section background-color="{{ brand.colours.primary }}"><mj-column>
    <mj-image src="{{ brand.logo_url }}" alt="{{ brand.logo_alt }}" width="120px" />
    <mj-text color="#ffffff">{{ brand.name }}</mj-text></mj-column></mj-section>
  {% block content %}{% endblock %}
  <mj-section><mj-column><mj-text>{{ brand.footer_address }} <a href="{{ unsubscribe_url }}">Unsubscribe</a>
  </mj-text></mj-column></mj-section>
</mj-body></mjml>"""
BODY = """{% block content %}<mj-section>
  <mj-column><mj-text><span id="left">Hi {{ contact.first_name|default:"there" }}</span></mj-text></mj-column>
  <mj-column><mj-text><span id="right">Our news</span></mj-text></mj-column>
</mj-section>{% endblock %}"""


def _boxes(page, width: int) -> tuple[dict, dict]:
    frame = page.locator(f"#widths iframe[data-width='{width}']").element_handle().content_frame()
    return frame.locator("#left").bounding_box(), frame.locator("#right").bounding_box()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_preview_at_phone_and_desktop_widths_and_the_brand_pages(live_server, page, make_user, viewport):
    make_user("mia", role="Marketer", password=PASSWORD)
    logo = AssetFactory(name="Acme logo", status=AssetStatusChoices.APPROVED)
    brand_kit_update(name="Acme", logo=logo, footer_address="1 Harbour Street, Leith")
    layout = email_layout_create(name="Acme responsive", format=TemplateFormat.MJML, body=LAYOUT)
    template = email_template_create(name="News", subject="News", format=TemplateFormat.MJML, layout=layout,
                                     html_body=BODY)
    page.set_viewport_size(viewport)

    log_in(page, live_server.url, "mia", f"/email/templates/{template.pk}/preview/")
    left, right = _boxes(page, 390)
    assert right["y"] > left["y"] + left["height"] - 1  # stacked: MJML's columns below 480 px
    left, right = _boxes(page, 800)
    assert right["x"] > left["x"] + left["width"] and abs(right["y"] - left["y"]) < 2  # side by side
    assert page.locator("#dark-findings li").count() >= 1
    assert "“Acme logo”" in page.inner_text("#dark-findings")
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []

    for path in ("/email/brand-kit/", "/email/layouts/", f"/email/layouts/{layout.pk}/"):
        page.goto(f"{live_server.url}{path}")
        assert horizontal_overflow(page) <= 0, path
        assert axe_violations(page) == [], path
    page.goto(f"{live_server.url}/email/brand-kit/")
    page.fill("#id_footer_address", "2 Harbour Street, Leith")
    page.click("#brand-kit-form button[type=submit]")
    page.wait_for_selector("text=Brand kit saved")
    assert "2 Harbour Street, Leith" in page.inner_text("#brand-values")
