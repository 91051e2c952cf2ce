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
    assert set(results) == {"spam_words", "shouting", "readability", "alt_text", "image_size", "channel_fit", "links"}
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


PLAIN = ("We made imports faster. You can bring in a big list in a minute. Pick the file and press go. "
         "We check each row for you. Then we tell you what we found. It is quick and it is safe.")
DENSE = ("Organisations implementing comprehensive multichannel communication methodologies consistently "
         "demonstrate considerably improved organisational effectiveness, notwithstanding substantial "
         "implementation complexity, particularly regarding interdepartmental coordination responsibilities "
         "and infrastructural modernisation requirements throughout geographically distributed operations. "
         "Consequently, stakeholders prioritising operational standardisation frequently underestimate "
         "organisational resistance accompanying transformational communication initiatives.")


def test_readability_passes_plain_text_and_fails_dense_text_against_the_kind_target():
    plain = checks.readability_check(PLAIN, max_grade=9, audience="Email")
    assert plain.outcome == checks.PASS and "the target for Email is grade 9 or below" in plain.reason
    dense = checks.readability_check(DENSE, max_grade=9, audience="Email")
    assert dense.outcome == checks.FAIL and "reading ease" in dense.reason and "shorter sentences" in dense.reason
    grade = float(dense.reason.split("Grade level ")[1].split(",")[0])
    assert checks.readability_check(DENSE, max_grade=round(grade) - 1, audience="Whitepaper").outcome == checks.WARN
    short = checks.readability_check("Hello there.", max_grade=9, audience="Email")
    assert short.outcome == checks.PASS and short.reason.startswith("Not scored: 2 words")


def test_readability_uses_the_admins_target_for_the_kind(make_user):
    from publishing.services import readability_targets_set

    content = ContentFactory(kind=ContentKind.WHITEPAPER, title="Report", summary="", body=DENSE, link_url="")
    assert "the target for Whitepaper is grade 14 or below" in by_key(content)["readability"].reason
    readability_targets_set(grades={ContentKind.WHITEPAPER: 6}, by=make_user("root", role="Admin"))
    result = by_key(content)["readability"]
    assert result.outcome == checks.FAIL and "the target for Whitepaper is grade 6 or below" in result.reason


def test_a_segment_the_content_is_aimed_at_sets_its_own_reading_grade():
    from crm.tests.factories import SegmentFactory
    from publishing.tests.factories import CampaignFactory

    general = SegmentFactory(name="General public", reading_grade=6)
    experts = SegmentFactory(name="Engineers", reading_grade=16)
    unset = SegmentFactory(name="Everyone else")
    content = ContentFactory(kind=ContentKind.WHITEPAPER, title="Report", summary="", body=DENSE, link_url="")
    for_experts = CampaignFactory(audience={"segment_ids": [experts.pk, unset.pk]})
    for_experts.contents.add(content)
    easier = by_key(content)["readability"]
    assert "the target for the segment Engineers is grade 16 or below" in easier.reason

    # Aimed at the general public too: the lower grade, as both read it.
    CampaignFactory(audience={"segment_ids": [general.pk]}).contents.add(content)
    result = by_key(content)["readability"]
    assert result.outcome == checks.FAIL and "the target for the segment General public is grade 6" in result.reason


def test_a_segment_without_a_reading_grade_leaves_the_kinds_target():
    from crm.tests.factories import SegmentFactory
    from publishing.tests.factories import CampaignFactory

    content = ContentFactory(kind=ContentKind.WHITEPAPER, title="Report", summary="", body=DENSE, link_url="")
    CampaignFactory(audience={"segment_ids": [SegmentFactory().pk]}).contents.add(content)
    assert "the target for Whitepaper is grade 14 or below" in by_key(content)["readability"].reason


def test_a_campaigns_reading_grade_wins_over_its_segments_and_the_kinds():
    from crm.tests.factories import SegmentFactory
    from publishing.tests.factories import CampaignFactory

    experts = SegmentFactory(name="Engineers", reading_grade=16)
    content = ContentFactory(kind=ContentKind.WHITEPAPER, title="Report", summary="", body=DENSE, link_url="")
    launch = CampaignFactory(name="Launch", audience={"segment_ids": [experts.pk]}, reading_grade=18)
    launch.contents.add(content)
    assert "the target for the campaign Launch is grade 18 or below" in by_key(content)["readability"].reason

    # A second campaign asking plainer words: the lower grade, as both campaigns' readers read it.
    CampaignFactory(name="Newsletter", reading_grade=5).contents.add(content)
    result = by_key(content)["readability"]
    assert result.outcome == checks.FAIL and "the target for the campaign Newsletter is grade 5" in result.reason


def test_the_campaigns_reading_grade_reaches_the_approvers_inbox(client, make_user):
    from publishing.tests.factories import CampaignFactory

    content = ContentFactory(kind=ContentKind.WHITEPAPER, title="Dense report", summary="", body=DENSE,
                             link_url="")
    CampaignFactory(name="Plain launch", reading_grade=4).contents.add(content)
    content_submit(content=content, by=content.author)
    client.force_login(make_user("judge", role=APPROVER))
    page = client.get(reverse("publishing:inbox")).content.decode()
    assert "the target for the campaign Plain launch is grade 4" in page


def _publish_copy(asset, size_bytes):
    from media.models import Rendition

    return Rendition.objects.create(asset=asset, preset="publish", format="jpeg", width=asset.width,
                                    height=asset.height, size_bytes=size_bytes, file=f"renditions/{asset.pk}/p.jpg",
                                    source_key="test")


def test_image_sizes_against_each_channels_limits():
    content = ContentFactory(kind=ContentKind.SOCIAL_POST, body="Spring photos.", link_url="")
    fits = AssetFactory(name="small.jpg")
    big_upload = AssetFactory(name="big.jpg", size_bytes=3_000_000)
    too_wide = AssetFactory(name="banner.jpg", width=4000, height=1000)
    bluesky = ChannelVersionFactory(content=content, kind="bluesky", body="Spring photos.")
    bluesky.media.add(fits, big_upload)
    assert checks.image_size_check([bluesky]).outcome == checks.WARN
    assert "a smaller one is sent if it fits" in checks.image_size_check([bluesky]).reason

    _publish_copy(big_upload, 900_000)  # the metadata-free copy fits Bluesky's 1,000,000 bytes
    result = checks.image_size_check([bluesky])
    assert result.outcome == checks.PASS and result.reason == "All 2 images fit their channels."
    _publish_copy(fits, 1_200_000)
    result = checks.image_size_check([bluesky])
    assert result.outcome == checks.FAIL and "small.jpg on Bluesky: the copy sent is 1.1\xa0MB" in result.reason

    instagram = ChannelVersionFactory(content=content, kind="instagram", body="Spring photos.")
    instagram.media.add(too_wide)
    result = checks.image_size_check([instagram])
    assert result.outcome == checks.WARN and "ratio 4.00" in result.reason and "0.8 to 1.91" in result.reason
    assert "cropped around its focal point to 1910×1000 (ratio 1.91)" in result.reason
    facebook = ChannelVersionFactory(content=content, kind="facebook", body="Spring photos.")
    facebook.media.add(too_wide)
    assert checks.image_size_check([facebook]).outcome == checks.PASS
    assert checks.image_size_check([]).reason == "No images attached to the channel versions."


def _copy(asset, preset, width, height, size_bytes):
    from media.models import Rendition

    return Rendition.objects.create(asset=asset, preset=preset, format="jpeg", width=width, height=height,
                                    size_bytes=size_bytes, file=f"renditions/{asset.pk}/{preset}.jpg",
                                    source_key="test")


def test_a_publish_copy_over_the_channels_limits_passes_with_a_note_when_a_smaller_copy_fits():
    content = ContentFactory(kind=ContentKind.SOCIAL_POST, body="Spring photos.", link_url="")
    photo = AssetFactory(name="photo.jpg", width=4000, height=3000, size_bytes=6_000_000)
    _copy(photo, "publish", 4000, 3000, 5_000_000)
    _copy(photo, "w1920", 1920, 1440, 900_000)
    _copy(photo, "w1280", 1280, 960, 400_000)
    facebook = ChannelVersionFactory(content=content, kind="facebook", body="Spring photos.")
    tiktok = ChannelVersionFactory(content=content, kind="tiktok", body="Spring photos.")
    for version in (facebook, tiktok):
        version.media.add(photo)

    result = checks.image_size_check([facebook, tiktok])

    assert result.outcome == checks.PASS and result.reason.startswith("All 2 images fit their channels.")
    # Facebook takes under 4 MB: the 1920-wide copy; TikTok at most 1080p: the 1280-wide one.
    assert "photo.jpg on Facebook: the full-size copy (4000×3000, 4.8\xa0MB) is over the channel's 3.8\xa0MB, so a " \
           "1920×1440 copy of 878.9\xa0KB is sent instead" in result.reason
    assert "photo.jpg on TikTok: the full-size copy (4000×3000, 4.8\xa0MB) is over the channel's 20.0\xa0MB and " \
           "2,073,600 pixels, so a 1280×960 copy" in result.reason

    photo.renditions.exclude(preset="publish").delete()
    failed = checks.image_size_check([facebook])
    assert failed.outcome == checks.FAIL and "no smaller copy fits" in failed.reason
