"""People see only the actions they may take, in plain words (no code names, no field paths)."""

import re

import pytest

from crm.tests.factories import SegmentFactory
from media.tests.factories import AssetFactory
from publishing.services.content import content_submit
from publishing.tests.email.factories import EmailCampaignFactory, EmailTemplateFactory
from publishing.tests.factories import ContentFactory

pytestmark = pytest.mark.django_db


def test_an_analyst_reads_a_segment_without_an_editor_or_save(client, make_user):
    segment = SegmentFactory()
    client.force_login(make_user("ana", role="Analyst"))
    html = client.get(f"/contacts/segments/{segment.pk}/").content.decode()
    assert '<fieldset class="plain" disabled>' in html and 'id="read-only"' in html
    assert ">Save</button>" not in html and "Delete segment" not in html


def test_a_marketer_edits_a_segment(client, make_user):
    segment = SegmentFactory()
    client.force_login(make_user("mia", role="Marketer"))
    html = client.get(f"/contacts/segments/{segment.pk}/").content.decode()
    assert '<fieldset class="plain">' in html and ">Save</button>" in html


def test_no_import_button_for_an_analyst(client, make_user):
    client.force_login(make_user("ana", role="Analyst"))
    assert "Import CSV" not in client.get("/contacts/").content.decode()
    client.force_login(make_user("mia", role="Marketer"))
    assert "Import CSV" in client.get("/contacts/").content.decode()


def test_an_analyst_reads_an_email_template_without_save(client, make_user):
    template = EmailTemplateFactory()
    client.force_login(make_user("ana", role="Analyst"))
    html = client.get(f"/email/templates/{template.pk}/").content.decode()
    assert '<fieldset class="plain" disabled>' in html and ">Save</button>" not in html


def test_an_analyst_is_not_offered_a_test_send(client, make_user):
    send = EmailCampaignFactory()
    client.force_login(make_user("ana", role="Analyst"))
    html = client.get(f"/email/campaigns/{send.campaign_id}/").content.decode()
    assert "Preview as a contact</a>" in html and "send a test" not in html


def test_content_workflow_buttons_and_trail_read_as_words(client, make_user):
    author = make_user("writer", role="Marketer")
    content = ContentFactory(author=author)
    content_submit(content=content, by=author)
    client.force_login(make_user("ada", role="Approver"))
    html = client.get(f"/publishing/content/{content.pk}/").content.decode()
    assert ">Request changes</button>" in html and "Requestchanges" not in html
    assert "<strong>Submitted</strong> Draft → In review" in html
    response = client.post(f"/publishing/content/{content.pk}/action/",
                           {"action": "request_changes", "note": "Shorter, please."}, follow=True)
    assert "Changes requested: the author has your note." in response.content.decode()


def test_asset_suggestions_show_no_debug_figures(client, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    asset = AssetFactory(alt_text="", width=1200, height=400)
    client.force_login(make_user("mia", role="Marketer"))
    html = client.get(f"/media/library/{asset.pk}/").content.decode()
    start = html.rindex("<ul>", 0, html.index('data-code="'))
    text = re.sub(r"<[^>]+>", " ", html[start:html.index("</ul>", start)])
    assert "Add alt text" in text and "crop keeps" in text
    assert "_" not in text and "{" not in text  # no field names, no figures dict
