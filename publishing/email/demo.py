"""A newsletter template and a draft email campaign to the demo's engaged contacts (idempotent).

It is left as a draft: the demo has no real sending account, and the pre-send checklist says so."""

from django.contrib.auth import get_user_model

from crm.models import Segment
from publishing.email.models import EmailCampaign, EmailTemplate
from publishing.email.services import email_campaign_set_up, email_template_create
from publishing.models import Campaign
from publishing.services import campaign_create

HTML = (
    '<html><body><p>Hi {{ contact.first_name|default:"there" }},</p>'
    "<p>Here is what is new for {{ contact.company.name|default:\"your team\" }} this month.</p>"
    '<p><a href="https://example.com/blog/spring-release">Read about the spring release</a></p>'
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>'
)


def seed() -> str:
    marketer = get_user_model().objects.filter(username="marketer").first()
    template = EmailTemplate.objects.filter(name="Monthly newsletter").first() or email_template_create(
        by=marketer, name="Monthly newsletter", subject='News for {{ contact.first_name|default:"you" }}',
        preheader="What shipped this month", html_body=HTML, text_body="")
    if not EmailCampaign.objects.filter(campaign__name="November newsletter").exists():
        segment = Segment.objects.order_by("pk").first()
        campaign = Campaign.objects.filter(name="November newsletter").first() or campaign_create(
            by=marketer, name="November newsletter", description="The monthly email to engaged contacts.",
            audience={"segment_ids": [segment.pk]} if segment else {})
        email_campaign_set_up(campaign=campaign, template=template, by=marketer,
                              from_email="news@aicmo.example", from_name="AICMO demo")
    return f"{EmailTemplate.objects.count()} email templates, {EmailCampaign.objects.count()} email campaigns"
