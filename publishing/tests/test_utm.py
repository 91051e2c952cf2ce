"""UTM parameters: added to the links of a campaign's posts when the campaign asks for them, keeping any
the author already set."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from publishing import dispatcher
from publishing.choices import JobStatus
from publishing.links import text_with_utm, with_utm
from publishing.tests.channels import channel_on
from publishing.tests.factories import CampaignFactory, JobFactory

pytestmark = pytest.mark.django_db

UTM = {"utm_source": "mastodon", "utm_medium": "social", "utm_campaign": "spring"}


def test_missing_utm_parameters_are_added_and_existing_ones_kept():
    assert with_utm("https://example.org/p?id=3", UTM) == (
        "https://example.org/p?id=3&utm_source=mastodon&utm_medium=social&utm_campaign=spring"
    )
    kept = parse_qs(urlsplit(with_utm("https://example.org/?utm_source=newsletter", UTM)).query)
    assert kept == {"utm_source": ["newsletter"], "utm_medium": ["social"], "utm_campaign": ["spring"]}


def test_links_in_text_get_them_and_punctuation_after_a_link_stays_outside():
    text = text_with_utm("Read [it](https://example.org/a). Or https://example.org/b!", UTM)
    assert "(https://example.org/a?utm_source=mastodon&utm_medium=social&utm_campaign=spring)." in text
    assert text.endswith("https://example.org/b?utm_source=mastodon&utm_medium=social&utm_campaign=spring!")


def test_a_post_of_a_campaign_without_utm_is_unchanged():
    job = JobFactory(version__body="See https://example.org/a", version__cta_url="https://example.org/cta")
    post = dispatcher.build_post(job)
    assert "utm_" not in post.text and post.link_url == "https://example.org/cta"


def test_defaults_come_from_the_channel_and_the_campaign_name():
    campaign = CampaignFactory(name="Spring Launch", utm_enabled=True)
    job = JobFactory(
        campaign=campaign,
        channel__slug="our-slack",
        version__body="See https://example.org/a",
        version__cta_url="https://example.org/cta?utm_medium=banner",
    )
    post = dispatcher.build_post(job)
    assert "https://example.org/a?utm_source=our-slack&utm_medium=social&utm_campaign=spring-launch" in post.text
    assert parse_qs(urlsplit(post.link_url).query) == {
        "utm_medium": ["banner"],
        "utm_source": ["our-slack"],
        "utm_campaign": ["spring-launch"],
    }


def test_a_published_mastodon_post_carries_the_campaigns_utm_parameters(httpserver):
    httpserver.expect_request("/api/v2/instance").respond_with_json(
        {"configuration": {"statuses": {"max_characters": 500}}}
    )
    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_json(
        {"id": "1", "url": "https://m.example/@a/1"}
    )
    campaign = CampaignFactory(utm_enabled=True, utm_source="fediverse", utm_medium="post", utm_campaign="spring")
    job = JobFactory(
        campaign=campaign,
        channel=channel_on(httpserver, "mastodon"),
        version__kind="mastodon",
        version__body="Faster imports: https://example.org/notes",
    )
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert job.status == JobStatus.PUBLISHED
    [sent] = [request for request, _ in httpserver.log if request.path == "/api/v1/statuses"]
    body = sent.get_json() if sent.is_json else {key: sent.form[key] for key in sent.form}
    assert "https://example.org/notes?utm_source=fediverse&utm_medium=post&utm_campaign=spring" in json.dumps(body)


def test_the_api_sets_a_campaigns_utm_defaults(api_as):
    created = api_as("Marketer", "writer").post(
        "/api/campaigns/",
        {"name": "Spring", "utm_enabled": True, "utm_source": "newsletter", "utm_medium": "email"},
        format="json",
    )
    assert created.status_code == 201, created.data
    assert (created.data["utm_enabled"], created.data["utm_source"], created.data["utm_campaign"]) == (
        True,
        "newsletter",
        "",
    )


def test_the_api_sets_a_campaigns_reading_grade_and_refuses_one_out_of_range(api_as):
    client = api_as("Marketer", "writer")
    refused = client.post("/api/campaigns/", {"name": "Spring", "reading_grade": 0}, format="json")
    assert refused.status_code == 400 and "reading_grade" in refused.json()["fields"]
    created = client.post("/api/campaigns/", {"name": "Spring", "reading_grade": 8}, format="json")
    assert created.status_code == 201 and created.data["reading_grade"] == 8
    changed = client.patch(f"/api/campaigns/{created.data['id']}/", {"reading_grade": None}, format="json")
    assert changed.status_code == 200 and changed.data["reading_grade"] is None


def test_the_check_appears_only_when_a_campaign_asks_and_warns_for_emails_lacking_them():
    from publishing import checks
    from publishing.choices import ContentKind
    from publishing.models import CampaignContent
    from publishing.tests.factories import ContentFactory

    email = ContentFactory(
        kind=ContentKind.EMAIL,
        link_url="",
        body="See https://example.org/a and https://example.org/b?utm_source=x. {{ unsubscribe_url }}",
    )
    assert "utm" not in {result.key for result in checks.content_checks(email)}
    CampaignContent.objects.create(campaign=CampaignFactory(name="Spring", utm_enabled=True), content=email)
    [utm] = [result for result in checks.content_checks(email) if result.key == "utm"]
    assert utm.outcome == checks.WARN
    assert utm.reason == "1 links lack the UTM parameters Spring asks for: https://example.org/a."

    post = ContentFactory(kind=ContentKind.SOCIAL_POST, link_url="", body="See https://example.org/a")
    CampaignContent.objects.create(campaign=CampaignFactory(name="Summer", utm_enabled=True), content=post)
    [utm] = [result for result in checks.content_checks(post) if result.key == "utm"]
    assert utm.outcome == checks.PASS and "added to the posts Summer publishes" in utm.reason
