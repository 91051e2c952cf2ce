import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from publishing.choices import CheckKind, ContentKind, ContentStatus
from publishing.models import Campaign
from publishing.services import blocking_checks_set, content_submit, versions_generate
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
        "bid_settings": "{}", "channels": [channel.pk], "utm_enabled": "on", "utm_source": "news",
        "reading_grade": "8",
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
    assert (campaign.utm_enabled, campaign.utm_source, campaign.reading_grade) == (True, "news", 8)


def test_approval_queue_lists_failing_checks_and_which_block_with_flat_queries(admin_client_with_queue, make_user):
    client, contents = admin_client_with_queue
    author = contents[0].author
    email = content_submit(content=ContentFactory(kind=ContentKind.EMAIL, title="Spring news", body="Our news.",
                                                  author=author), by=author)
    blocking_checks_set(keys=[CheckKind.UNSUBSCRIBE], by=make_user("root", role="Admin"))
    url = reverse("admin:publishing_reviewqueue_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as three:
        listing = client.get(url).content.decode()
    row = listing[listing.index("Spring news"):]
    assert "Unsubscribe link (blocks approval)" in row[:row.index("</tr>")]

    for n in range(3):
        versions_generate(content=(more := ContentFactory(author=author, title=f"More {n}")), kinds=["x"])
        content_submit(content=more, by=author)
    with CaptureQueriesContext(connection) as six:
        client.get(url)
    assert len(six) == len(three)
    response = client.post(url, {"action": "approve_selected", "_selected_action": [email.pk]}, follow=True)
    assert "Approval is blocked by failing checks" in response.content.decode()
