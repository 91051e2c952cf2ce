import pytest
from django.urls import reverse

from publishing.choices import ContentStatus
from publishing.models import Campaign
from publishing.services import content_submit, versions_generate
from publishing.tests.factories import ChannelFactory, ContentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_with_queue(admin_client, make_user):
    author = make_user("author")
    contents = [ContentFactory(author=author, title=f"Piece {n}") for n in range(2)]
    for content in contents:
        versions_generate(content=content, kinds=["x", "linkedin"])
        content_submit(content=content, by=author)
    return admin_client, contents


def test_approval_queue_shows_content_in_review_with_each_version_previewed(admin_client_with_queue):
    client, contents = admin_client_with_queue
    ContentFactory(title="Still a draft")
    listing = client.get(reverse("admin:publishing_reviewqueue_changelist"))
    assert listing.status_code == 200
    assert b"Piece 0" in listing.content and b"Still a draft" not in listing.content
    page = client.get(reverse("admin:publishing_reviewqueue_change", args=[contents[0].pk]))
    assert page.content.count(b'class="version-preview"') == 2
    assert b"X (Twitter)" in page.content and b"LinkedIn" in page.content


def test_bulk_approve_from_the_queue(admin_client_with_queue):
    client, contents = admin_client_with_queue
    response = client.post(reverse("admin:publishing_reviewqueue_changelist"), {
        "action": "approve_selected", "_selected_action": [c.pk for c in contents]})
    assert response.status_code == 302
    for content in contents:
        content.refresh_from_db()
        assert content.status == ContentStatus.APPROVED


def test_bulk_request_changes_asks_for_a_note_first(admin_client_with_queue):
    client, contents = admin_client_with_queue
    url = reverse("admin:publishing_reviewqueue_changelist")
    ask = client.post(url, {"action": "request_changes_selected", "_selected_action": [c.pk for c in contents]})
    assert ask.status_code == 200 and b"What should change?" in ask.content
    client.post(url, {"action": "request_changes_selected", "_selected_action": [c.pk for c in contents],
                      "apply": "1", "note": "Add numbers"})
    for content in contents:
        content.refresh_from_db()
        assert content.status == ContentStatus.CHANGES_REQUESTED


def test_campaign_is_created_in_the_admin_with_contents_and_channels(admin_client):
    content, channel = ContentFactory(), ChannelFactory()
    response = admin_client.post(reverse("admin:publishing_campaign_add"), {
        "name": "Autumn", "description": "", "starts_at_0": "2030-01-01", "starts_at_1": "09:00:00",
        "ends_at_0": "", "ends_at_1": "", "audience": '{"domains": ["acme.com"]}', "budget": "100",
        "bid_settings": "{}", "channels": [channel.pk],
        "campaign_contents-TOTAL_FORMS": "1", "campaign_contents-INITIAL_FORMS": "0",
        "campaign_contents-0-content": content.pk, "campaign_contents-0-publish_at_0": "",
        "campaign_contents-0-publish_at_1": "",
        "jobs-TOTAL_FORMS": "0", "jobs-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.context["adminform"].errors if response.context else response
    campaign = Campaign.objects.get()
    assert campaign.audience == {"domains": ["acme.com"]}
    assert list(campaign.channels.all()) == [channel] and list(campaign.contents.all()) == [content]
    assert campaign.created_by.is_superuser
