"""The content editor: the Markdown preview, library assets on content and versions."""

import pytest
from django.urls import reverse

from aicmo_site.roles import ANALYST
from publishing.services import content_create

pytestmark = pytest.mark.django_db


def test_preview_renders_markdown_safely(marketer_client, django_assert_num_queries):
    with django_assert_num_queries(4):
        response = marketer_client.post(reverse("publishing:content-preview"),
                                        {"body": "# Launch\n\nWe shipped **fast** imports <script>x()</script>"})
    html = response.content.decode()
    assert "<h1>Launch</h1>" in html and "<strong>fast</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_editor_shows_the_saved_body_rendered_and_asks_for_the_preview(marketer_client):
    content = content_create(by=marketer_client.user, title="Launch", body="We shipped **fast** imports")
    page = marketer_client.get(reverse("publishing:content-edit", args=[content.pk]))
    html = page.content.decode()
    assert '<div id="body-preview" aria-live="polite"><p>We shipped <strong>fast</strong> imports</p>' in html
    assert f'hx-post="{reverse("publishing:content-preview")}"' in html and "vendor/htmx.min.js" in html


def test_an_analyst_gets_no_preview(client, make_user):
    client.force_login(make_user("ana", role=ANALYST))
    assert client.post(reverse("publishing:content-preview"), {"body": "x"}).status_code == 403
