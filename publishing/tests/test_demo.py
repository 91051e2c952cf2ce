import pytest

from aicmo_site.demo import seed_users
from media import demo as media_demo
from publishing import demo
from publishing.choices import ContentStatus, JobStatus
from publishing.email import demo as email_demo
from publishing.email.brand import brand_kit, logo_usable
from publishing.email.choices import SendStatus, TemplateFormat
from publishing.email.models import EmailCampaign, EmailLayout
from publishing.email.services import email_template_preview
from publishing.models import Campaign, Content, PublishingJob

pytestmark = pytest.mark.django_db


def test_demo_seeds_every_state_once():
    seed_users()
    # seed_demo runs the email package's seed after publishing's (aicmo_site.registry).
    first = demo.seed()
    email_demo.seed()
    second = demo.seed()
    email_demo.seed()
    assert first.startswith("5 content created") and second.startswith("0 content created")
    statuses = set(Content.objects.values_list("status", flat=True))
    assert statuses >= {ContentStatus.DRAFT, ContentStatus.IN_REVIEW, ContentStatus.CHANGES_REQUESTED,
                        ContentStatus.SCHEDULED}
    # The spring launch (posts), last month's newsletter (history) and the November one (a draft), once each.
    assert sorted(Campaign.objects.values_list("name", flat=True)) == [
        "November newsletter", "October newsletter", "Spring launch"]
    assert dict(EmailCampaign.objects.values_list("campaign__name", "status")) == {
        "November newsletter": SendStatus.DRAFT, "October newsletter": SendStatus.COMPLETED}
    assert PublishingJob.objects.filter(status=JobStatus.SCHEDULED).count() == 4


def test_demo_has_a_brand_kit_and_a_template_written_in_its_stored_layout(monkeypatch, settings):
    # The logo is the approved first picture, the second is in review: two pictures, thumbnails only (the
    # library of twelve and its renditions are media's tests'; they made most of this test's time).
    monkeypatch.setattr(media_demo, "PICTURES", media_demo.PICTURES[:2])
    settings.MEDIA_RESPONSIVE_WIDTHS, settings.MEDIA_CHANNEL_PRESETS = [], []
    seed_users()
    media_demo.seed()
    email_demo.seed()
    email_demo.seed()
    kit = brand_kit()
    assert kit.name == "AICMO demo" and kit.logo is not None and logo_usable(kit.logo)
    [layout] = EmailLayout.objects.all()
    [announcement] = layout.templates.all()
    assert (layout.format, announcement.format) == (TemplateFormat.MJML, TemplateFormat.MJML)
    rendered = email_template_preview(template=announcement, contact=None)
    assert "mj-column-per-100" in rendered.html  # compiled MJML
    assert "The spring release is here" in rendered.html and "12 Harbour Street" in rendered.html
    assert kit.logo.file.url in rendered.html and "Unsubscribe" in rendered.text
