"""Automated checks before approval: each pass, warn or fail with its reason, on the content page, in
the approver's inbox and in the API."""

import pytest
from django.urls import reverse

from aicmo_site.roles import APPROVER, MARKETER
from media.tests.factories import AssetFactory
from publishing import checks
from publishing.choices import ContentKind
from publishing.services.content import content_submit
from publishing.tests.factories import ChannelVersionFactory, ContentFactory

pytestmark = pytest.mark.django_db


def by_key(content) -> dict[str, checks.CheckResult]:
    return {result.key: result for result in checks.content_checks(content)}


def test_clean_social_post_passes_every_check():
    # No links: links not yet checked would be a warning (see test_links_check).
    content = ContentFactory(kind=ContentKind.SOCIAL_POST, body="Imports are twice as fast now.", link_url="")
    ChannelVersionFactory(content=content, kind="mastodon", body="Imports are twice as fast now.")
    results = by_key(content)
    assert set(results) == {"spam_words", "shouting", "alt_text", "channel_fit", "links"}
    assert {r.outcome for r in results.values()} == {checks.PASS}
    assert checks.worst_outcome(list(results.values())) == checks.PASS


def test_spam_words_warn_in_a_post_and_fail_an_email_with_several():
    text = "Act now: a free gift for every winner, guaranteed."
    assert checks.spam_words_check("Hello", text, email=False).outcome == checks.WARN
    failed = checks.spam_words_check("Hello", text, email=True)
    assert failed.outcome == checks.FAIL and "act now" in failed.reason and "guaranteed" in failed.reason
    assert checks.spam_words_check("Hello", "Click heretic sales", email=True).outcome == checks.PASS


def test_capitals_and_triple_exclamation_marks():
    shouted = checks.shouting_check("HUGE SPRING SALE TODAY ONLY!!!", "Our prices are lower this week.", email=True)
    assert shouted.outcome == checks.FAIL
    assert "of the words of the subject are in capitals" in shouted.reason and "“!!!”" in shouted.reason
    assert checks.shouting_check("Spring sale", "Lower prices!!! All week.", email=False).outcome == checks.WARN
    assert checks.shouting_check("Our API and CRM news", "Read what the SDK brings.", email=True).outcome == checks.PASS


def test_images_without_alt_text_fail_naming_them():
    content = ContentFactory()
    content.media.add(AssetFactory(name="Team photo", alt_text=""), AssetFactory(alt_text="Our office"))
    version = ChannelVersionFactory(content=content, kind="mastodon", body="Hello")
    version.media.add(AssetFactory(name="Chart", alt_text="  "))
    result = by_key(content)["alt_text"]
    assert result.outcome == checks.FAIL and result.reason.startswith("2 of 3 images have no alt text")
    assert "Team photo" in result.reason and "Chart" in result.reason


def test_channel_fit_uses_the_formatter_rules():
    content = ContentFactory()
    ChannelVersionFactory(content=content, kind="x", body="Faster imports. " * 30)
    result = by_key(content)["channel_fit"]
    assert result.outcome == checks.FAIL and "280" in result.reason


def test_email_needs_an_unsubscribe_link_and_shows_a_postal_address():
    bare = by_key(ContentFactory(kind=ContentKind.EMAIL, body="Our spring news."))
    assert bare["unsubscribe"].outcome == checks.FAIL and bare["postal_address"].outcome == checks.WARN
    done = by_key(ContentFactory(kind=ContentKind.EMAIL, body=(
        "Our spring news.\n\nAICMO Ltd, 12 Market Street, Leeds LS1 6DT\n\n"
        "[Unsubscribe]({{ unsubscribe_url }})")))
    assert done["unsubscribe"].outcome == checks.PASS and done["postal_address"].outcome == checks.PASS


def test_content_page_api_and_inbox_show_the_checks(client, make_user, api_as):
    author = make_user("writer", role=MARKETER)
    content = ContentFactory(kind=ContentKind.EMAIL, title="FREE MONEY NOW!!!", author=author,
                             body="Act now, guaranteed.")
    content_submit(content=content, by=author)
    client.force_login(make_user("ada", role=APPROVER))

    page = client.get(content.get_absolute_url()).content.decode()
    inbox = client.get(reverse("publishing:inbox")).content.decode()
    api = api_as(APPROVER, "reviewer").get(f"/api/contents/{content.pk}/checks/")

    assert "Automated checks" in page and "No unsubscribe link" in page
    assert "Automated checks: failures" in inbox and "Spam-trigger words" in inbox
    assert api.status_code == 200
    assert {item["key"]: item["outcome"] for item in api.data}["unsubscribe"] == "fail"
