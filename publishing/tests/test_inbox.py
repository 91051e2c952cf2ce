"""The approver's inbox page and the navigation's count of work waiting."""

import pytest

from media.choices import AssetStatusChoices
from media.services.approval import asset_submit
from media.tests.factories import AssetFactory
from publishing.choices import CheckKind, ContentKind, ContentStatus
from publishing.selectors import approvals_waiting_count
from publishing.services import blocking_checks_set
from publishing.services.content import content_submit
from publishing.tests.factories import ChannelVersionFactory, ContentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(make_user):
    """Two pieces of content and one asset in review, submitted in this order, plus a draft."""
    author = make_user("writer", role="Marketer")
    older = ContentFactory(title="Older post", author=author)
    newer = ContentFactory(title="Newer post", author=author)
    content_submit(content=older, by=author)
    content_submit(content=newer, by=author)
    ContentFactory(title="Still a draft", author=author)
    asset = AssetFactory(name="Hero image")
    asset_submit(asset=asset, by=author)
    return {"older": older, "newer": newer, "asset": asset, "author": author}


def test_inbox_lists_what_waits_oldest_first_with_previews(client, make_user, waiting, django_assert_num_queries):
    client.force_login(make_user("ada", role="Approver"))
    client.get("/publishing/approvals/")  # warms the permission and session caches
    # 10th: the content's media, for the alt-text check; 11th: its campaigns, for the UTM and readability
    # checks; 12th to 14th: the readability targets, the segments' reading grades and the blocking checks, read
    # once for the whole inbox
    with django_assert_num_queries(14):
        html = client.get("/publishing/approvals/").content.decode()
    assert html.index("Older post") < html.index("Newer post")
    assert "Still a draft" not in html
    assert "Hero image" in html and "Read the content" in html and "faster imports" in html
    assert "3 items waiting for you" in html
    assert '<span class="count-badge">3' in html


def test_query_count_does_not_grow_with_the_inbox(client, make_user, waiting, django_assert_num_queries):
    client.force_login(make_user("ada", role="Approver"))
    content_submit(content=ContentFactory(author=waiting["author"]), by=waiting["author"])
    asset_submit(asset=AssetFactory(), by=waiting["author"])
    client.get("/publishing/approvals/")
    with django_assert_num_queries(14):
        client.get("/publishing/approvals/")


def test_approve_and_request_changes_in_place(client, make_user, waiting):
    client.force_login(make_user("ada", role="Approver"))
    response = client.post(f"/publishing/approvals/content/{waiting['older'].pk}/", {"decision": "approve"})
    assert response.status_code == 302 and response["Location"] == "/publishing/approvals/"
    response = client.post(f"/publishing/approvals/content/{waiting['newer'].pk}/",
                           {"decision": "request_changes", "note": "Shorter title, please."}, follow=True)
    assert "“Newer post” sent back with your requested changes." in response.content.decode()
    client.post(f"/publishing/approvals/assets/{waiting['asset'].pk}/",
                {"decision": "request_changes", "note": "Crop the logo."})
    waiting["older"].refresh_from_db()
    waiting["newer"].refresh_from_db()
    waiting["asset"].refresh_from_db()
    assert waiting["older"].status == ContentStatus.APPROVED
    assert waiting["newer"].status == ContentStatus.CHANGES_REQUESTED
    assert waiting["asset"].status == AssetStatusChoices.REJECTED
    assert "Nothing is waiting for your approval." in client.get("/publishing/approvals/").content.decode()


def test_requesting_changes_needs_a_note(client, make_user, waiting):
    client.force_login(make_user("ada", role="Approver"))
    html = client.post(f"/publishing/approvals/assets/{waiting['asset'].pk}/", {"decision": "request_changes"},
                       follow=True).content.decode()
    assert "say what should change" in html
    waiting["asset"].refresh_from_db()
    assert waiting["asset"].status == AssetStatusChoices.IN_REVIEW


def test_an_author_is_not_asked_to_approve_their_own_content(make_user, waiting, settings):
    settings.PUBLISHING_ALLOW_SELF_APPROVAL = False
    author = waiting["author"]
    author.groups.add(*make_user("x", role="Approver").groups.all())
    author = type(author).objects.get(pk=author.pk)  # fresh permission cache
    assert approvals_waiting_count(author) == 1  # the asset only
    assert approvals_waiting_count(make_user("ada", role="Approver")) == 3


def test_people_who_cannot_approve_have_no_inbox_and_no_badge(client, make_user, waiting):
    client.force_login(make_user("mia", role="Marketer"))
    assert client.get("/publishing/approvals/").status_code == 403
    html = client.get("/contacts/").content.decode()
    assert "count-badge" not in html and "Approvals" not in html


def test_deciding_twice_says_it_is_no_longer_waiting(client, make_user, waiting):
    client.force_login(make_user("ada", role="Approver"))
    client.post(f"/publishing/approvals/content/{waiting['older'].pk}/", {"decision": "approve"})
    html = client.post(f"/publishing/approvals/content/{waiting['older'].pk}/", {"decision": "approve"},
                       follow=True).content.decode()
    assert "is no longer waiting for your approval" in html


def test_the_inbox_marks_blocking_failures_and_disables_approving_them(client, make_user, waiting,
                                                                      django_assert_num_queries):
    email = ContentFactory(kind=ContentKind.EMAIL, title="Spring news", body="Our news.", author=waiting["author"])
    ChannelVersionFactory(content=email, kind="x", body="Our news.").media.add(AssetFactory(name="Team photo"))
    content_submit(content=email, by=waiting["author"])
    blocking_checks_set(keys=[CheckKind.UNSUBSCRIBE], by=make_user("root", role="Admin"))
    client.force_login(make_user("ada", role="Approver"))
    client.get("/publishing/approvals/")
    with django_assert_num_queries(16):  # two more with versions' images: those images and their renditions
        html = client.get("/publishing/approvals/").content.decode()

    item = _inbox_item(html, email.pk)
    assert "(1 block approval)" in item and "(blocks approval while it fails)" in item
    assert f'disabled aria-describedby="blocked-{email.pk}"' in item
    assert "Approval is blocked by failing checks: Unsubscribe link." in item
    assert "disabled" not in _inbox_item(html, waiting["older"].pk)

    response = client.post(f"/publishing/approvals/content/{email.pk}/", {"decision": "approve"}, follow=True)
    assert "Approval is blocked by failing checks" in response.content.decode()
    email.refresh_from_db()
    assert email.status == ContentStatus.IN_REVIEW


def _inbox_item(html: str, pk: int) -> str:
    start = html.index(f'id="content-{pk}"')
    ends = [i for i in (html.find('class="card inbox-item"', start), html.find("</ol>", start)) if i != -1]
    return html[start:min(ends)]
