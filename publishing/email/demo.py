"""A newsletter template, personalised by topic, and a draft email campaign to the demo's engaged contacts
(idempotent).

It is left as a draft: the demo has no real sending account, and the pre-send checklist says so."""

from django.contrib.auth import get_user_model

from crm.demo import seed_topics
from crm.models import Segment
from publishing.email.models import EmailCampaign, EmailTemplate
from publishing.email.services import email_block_create, email_campaign_set_up, email_template_create
from publishing.models import Campaign
from publishing.services import campaign_create

HTML = (
    '<html><body><p>Hi {{ contact.first_name|default:"there" }},</p>'
    "<p>Here is what is new for {{ contact.company.name|default:\"your team\" }} this month.</p>"
    '<p><a href="https://example.com/blog/spring-release">Read about the spring release</a></p>'
    "{{ blocks.articles }}"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>'
)

# The newsletter's "articles" slot: each reader gets the articles of the topics they follow.
ARTICLES = (
    ("ai", "Agents in production", "https://example.com/blog/agents-in-production"),
    ("product-news", "The spring release, feature by feature", "https://example.com/blog/spring-features"),
    ("events", "Webinar: measuring what worked", "https://example.com/events/measuring"),
    ("customer-stories", "How Acme halved its send times", "https://example.com/stories/acme"),
)


def _topic_blocks(template: EmailTemplate) -> None:
    if template.blocks.exists():
        return
    topics = seed_topics()
    for position, (slug, title, url) in enumerate(ARTICLES):
        email_block_create(template=template, slot="articles", title=title, position=position,
                           html=f'<h2><a href="{url}">{title}</a></h2>', topics=[topics[slug]])


def seed() -> str:
    marketer = get_user_model().objects.filter(username="marketer").first()
    template = EmailTemplate.objects.filter(name="Monthly newsletter").first() or email_template_create(
        by=marketer, name="Monthly newsletter", subject='News for {{ contact.first_name|default:"you" }}',
        preheader="What shipped this month", html_body=HTML, text_body="")
    _topic_blocks(template)
    if not EmailCampaign.objects.filter(campaign__name="November newsletter").exists():
        segment = Segment.objects.order_by("pk").first()
        campaign = Campaign.objects.filter(name="November newsletter").first() or campaign_create(
            by=marketer, name="November newsletter", description="The monthly email to engaged contacts.",
            audience={"segment_ids": [segment.pk]} if segment else {})
        email_campaign_set_up(campaign=campaign, template=template, by=marketer,
                              from_email="news@aicmo.example", from_name="AICMO demo")
    return f"{EmailTemplate.objects.count()} email templates, {EmailCampaign.objects.count()} email campaigns"
