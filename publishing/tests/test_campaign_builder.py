from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aicmo_site.roles import ANALYST
from crm.models import Contact
from crm.tests.factories import ContactFactory, ContactListFactory, SegmentFactory, TagFactory
from gateways.models import ProviderAccount
from publishing import services
from publishing.choices import CampaignStatus
from publishing.models import Campaign
from publishing.tests.factories import CampaignFactory, ChannelFactory, ContentFactory, approve

pytestmark = pytest.mark.django_db
HIGH_SCORE = {"op": "and", "rules": [{"field": "engagement_score", "operator": "gte", "value": 60}]}


@pytest.fixture
def people():
    keen = SegmentFactory(name="Keen", rules=HIGH_SCORE)
    for n in range(3):
        ContactFactory(email=f"keen{n}@a.io", engagement_score=80)
    ContactFactory(email="gone@a.io", engagement_score=90, consent_status="unsubscribed")
    ContactFactory(email="cold@b.io", engagement_score=5)
    return keen


def _when(days=1):
    return (timezone.localtime() + timedelta(days=days)).replace(second=0, microsecond=0)


def test_builder_lists_segments_with_live_sizes_and_only_usable_channels(marketer_client, people,
                                                                         django_assert_num_queries):
    account = ProviderAccount.objects.create(capability="channel_posting", adapter="mastodon", name="Our Mastodon")
    off = ProviderAccount.objects.create(capability="channel_posting", adapter="mastodon", name="Old", enabled=False)
    ChannelFactory(name="Mastodon", kind="mastodon", provider_account=account)
    ChannelFactory(name="Team Slack", kind="slack")
    ChannelFactory(name="Dead account", kind="mastodon", provider_account=off)
    ChannelFactory(name="Switched off", active=False)
    SegmentFactory(name="Everyone", rules={"op": "and", "rules": []})
    for _ in range(3):
        ContentFactory()
    ContactListFactory(name="Webinar guests", members=list(Contact.objects.filter(email__startswith="keen")))
    ContactListFactory(name="Empty list")
    # Fixed however many segments, lists, channels and contents: segment and list sizes are counted in one
    # query each, and each picker asks whether it has choices, then reads them.
    with django_assert_num_queries(20):
        page = marketer_client.get(reverse("publishing:campaign-create"))
    text = page.content.decode()
    assert "Keen (4 members)" in text and "Webinar guests (3 members)" in text and "Empty list (0 members)" in text
    assert "Lists of contacts" in text and "Leave out people on" in text
    assert "Mastodon — posted through Our Mastodon" in text and "Team Slack — you post it by hand" in text
    assert "Dead account" not in text and "Switched off" not in text


def test_audience_size_counts_after_suppression_and_exclusions(marketer_client, people):
    vip = TagFactory(name="vip")
    ContactFactory(email="tagged@c.io", tags=[vip])
    small = SegmentFactory(name="C", rules={"op": "and", "rules": [
        {"field": "domain", "operator": "in", "value": ["c.io"]}]})
    url = reverse("publishing:campaign-audience-size")
    page = marketer_client.get(url, {"segments": [people.pk], "tags": [vip.pk], "exclude_segments": [small.pk]})
    # The three keen ones may be emailed; the unsubscribed one is picked but left out; tagged@c.io excluded.
    assert '<strong id="audience-count">3</strong>' in page.content.decode()
    assert "4 picked; 1 left out" in page.content.decode()
    unknown = marketer_client.get(url, {"emails": "nobody@x.io"})
    assert "No contact has the address nobody@x.io" in unknown.content.decode()


def test_lists_are_picked_and_left_out_in_the_live_audience_size(marketer_client, people):
    keen = list(Contact.objects.filter(email__startswith="keen").order_by("email"))
    cold = Contact.objects.get(email="cold@b.io")
    guests = ContactListFactory(name="Guests", members=[*keen, cold])
    speakers = ContactListFactory(name="Speakers", members=[keen[0]])
    url = reverse("publishing:campaign-audience-size")
    page = marketer_client.get(url, {"lists": [guests.pk], "exclude_lists": [speakers.pk]}).content.decode()
    assert '<strong id="audience-count">3</strong>' in page  # keen1, keen2, cold; keen0 left out
    both = marketer_client.get(url, {"segments": [people.pk], "lists": [guests.pk]}).content.decode()
    assert '<strong id="audience-count">4</strong>' in both and "5 picked; 1 left out" in both  # the unsubscribed one


def test_building_saves_audience_contents_times_and_channels_by_name(marketer_client, people):
    channel = ChannelFactory(name="Team Slack", kind="slack")
    content = approve(ContentFactory(title="Launch"))
    when = _when()
    blog = ChannelFactory(name="Blog", kind="website")
    other = approve(ContentFactory(title="Recap"))
    guests, speakers = ContactListFactory(name="Guests"), ContactListFactory(name="Speakers")
    response = marketer_client.post(reverse("publishing:campaign-create"), {
        "name": "Spring", "goal": "40 demos", "starts_at": "", "ends_at": "",
        "segments": [people.pk], "domains": "B.io", "emails": "keen1@a.io", "lists": [guests.pk],
        "exclude_lists": [speakers.pk],
        "contents": [content.pk, other.pk], f"publish_at_{content.pk}": when.strftime("%Y-%m-%dT%H:%M"),
        f"channels_{content.pk}": [channel.pk, blog.pk], f"channels_{other.pk}": [blog.pk],
        f"publish_at_{other.pk}": when.strftime("%Y-%m-%dT%H:%M"),
    })
    campaign = Campaign.objects.get()
    assert response["Location"] == reverse("publishing:campaign-review", args=[campaign.pk])
    assert campaign.description == "40 demos" and set(campaign.channels.all()) == {channel, blog}
    services.campaign_activate(campaign=campaign)
    assert sorted(campaign.jobs.values_list("content__title", "channel__name")) == [
        ("Launch", "Blog"), ("Launch", "Team Slack"), ("Recap", "Blog")]
    keen1 = Contact.objects.get(email="keen1@a.io")
    assert campaign.audience == {"segment_ids": [people.pk], "domains": ["b.io"], "contact_ids": [keen1.pk],
                                 "list_ids": [guests.pk], "exclude_list_ids": [speakers.pk]}
    assert campaign.campaign_contents.get(content=content).publish_at == when


def test_builder_names_field_problems_in_plain_words(marketer_client):
    response = marketer_client.post(reverse("publishing:campaign-create"), {
        "name": "", "starts_at": "2026-05-02T10:00", "ends_at": "2026-05-01T10:00", "contents": ["999"]})
    form = response.context["form"]
    assert "This field is required." in form.errors["name"]
    assert form.errors["ends_at"] == ["The campaign ends before it starts."]
    assert "contents" in form.errors and not Campaign.objects.exists()
    content = ContentFactory(title="Nowhere")
    response = marketer_client.post(reverse("publishing:campaign-create"), {"name": "X", "contents": [content.pk]})
    assert "Choose where to post “Nowhere”." in response.content.decode()


def test_review_lists_every_problem_and_activation_surfaces_them(marketer_client):
    campaign = services.campaign_create(by=marketer_client.user, name="Empty", starts_at=None)
    draft = ContentFactory(title="Unapproved")
    services.campaign_update(campaign=campaign, contents=[draft], channels=[ChannelFactory(name="Slack")])
    page = marketer_client.get(reverse("publishing:campaign-review", args=[campaign.pk]))
    text = page.content.decode()
    assert "Set a start time or a time for each content." in text
    assert "“Unapproved”: Not approved yet (Draft)." in text and "campaign /" not in text
    posted = marketer_client.post(reverse("publishing:campaign-review", args=[campaign.pk]))
    assert posted.status_code == 200 and "“Unapproved”: Not approved yet (Draft)." in posted.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_review_activates_a_ready_campaign(marketer_client):
    campaign = services.campaign_create(by=marketer_client.user, name="Ready", starts_at=_when(),
                                        contents=[approve(ContentFactory())], channels=[ChannelFactory()])
    response = marketer_client.post(reverse("publishing:campaign-review", args=[campaign.pk]))
    assert response["Location"] == campaign.get_absolute_url()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED and campaign.jobs.count() == 1


def test_edit_keeps_the_plan_and_refuses_a_running_campaign(marketer_client):
    channel = ChannelFactory()
    content = approve(ContentFactory(title="Kept"))
    campaign = services.campaign_create(by=marketer_client.user, name="Draft one", starts_at=_when(),
                                        contents=[(content, _when(2))], channels=[channel])
    page = marketer_client.get(reverse("publishing:campaign-edit", args=[campaign.pk]))
    form = page.context["form"]
    assert form["name"].value() == "Draft one" and form[f"channels_{content.pk}"].value() == [channel.pk]
    assert f'value="{content.pk}" checked' in page.content.decode()
    services.campaign_activate(campaign=campaign, by=marketer_client.user)
    refused = marketer_client.get(reverse("publishing:campaign-edit", args=[campaign.pk]))
    assert refused["Location"] == campaign.get_absolute_url()


def test_duplicate_copies_the_plan_as_a_new_draft(marketer_client, people):
    channel = ChannelFactory()
    content = approve(ContentFactory())
    publish_at = _when(3)
    campaign = services.campaign_create(by=marketer_client.user, name="Spring", starts_at=_when(),
                                        contents=[(content, publish_at)], channels=[channel],
                                        audience={"segment_ids": [people.pk], "exclude_segment_ids": [people.pk]})
    services.campaign_activate(campaign=campaign, by=marketer_client.user)
    response = marketer_client.post(reverse("publishing:campaign-duplicate", args=[campaign.pk]))
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert response["Location"] == reverse("publishing:campaign-edit", args=[copy.pk])
    assert copy.name == "Copy of Spring" and copy.status == CampaignStatus.DRAFT and not copy.jobs.exists()
    assert copy.audience == campaign.audience and list(copy.channels.all()) == [channel]
    assert copy.campaign_contents.get().publish_at == publish_at


def test_campaign_page_shows_only_the_actions_allowed(marketer_client, make_user):
    client = marketer_client
    campaign = CampaignFactory()
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert "Review and activate" in page and ">Edit<" in page and 'value="resume"' not in page
    services.campaign_cancel(campaign=campaign, by=marketer_client.user)
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert ">Edit<" not in page and 'value="cancel"' not in page and "Duplicate" in page
    refused = marketer_client.post(reverse("publishing:campaign-action", args=[campaign.pk]), {"action": "pause"},
                                   follow=True)
    assert "That action is not available for this campaign." in refused.content.decode()
    client.force_login(make_user("numbers", role=ANALYST))
    page = client.get(CampaignFactory().get_absolute_url()).content.decode()
    assert 'id="campaign-actions"' not in page


def test_builder_sets_and_shows_the_campaigns_utm_parameters(marketer_client):
    response = marketer_client.post(reverse("publishing:campaign-create"), {
        "name": "Spring", "utm_enabled": "on", "utm_source": "newsletter", "utm_medium": ""})
    assert response.status_code == 302, response.context["form"].errors
    campaign = Campaign.objects.get(name="Spring")
    assert (campaign.utm_enabled, campaign.utm_source, campaign.utm_medium) == (True, "newsletter", "")
    page = marketer_client.get(reverse("publishing:campaign-edit", args=[campaign.pk]))
    form = page.context["form"]
    assert form["utm_enabled"].value() is True and form["utm_source"].value() == "newsletter"
    assert "Add UTM parameters to links" in page.content.decode()


def test_builder_sets_the_campaigns_reading_grade_and_refuses_one_out_of_range(marketer_client):
    url = reverse("publishing:campaign-create")
    refused = marketer_client.post(url, {"name": "Spring", "reading_grade": "25"})
    assert refused.status_code == 200 and "reading_grade" in refused.context["form"].errors
    response = marketer_client.post(url, {"name": "Spring", "reading_grade": "7"})
    assert response.status_code == 302, response.context["form"].errors
    campaign = Campaign.objects.get(name="Spring")
    assert campaign.reading_grade == 7
    page = marketer_client.get(reverse("publishing:campaign-edit", args=[campaign.pk]))
    assert page.context["form"]["reading_grade"].value() == 7 and "Reading grade target" in page.content.decode()
    detail = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert "content checked against reading grade 7" in detail
    assert services.campaign_duplicate(campaign=campaign, by=None).reading_grade == 7
