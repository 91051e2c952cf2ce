"""A newsletter template, personalised by topic, last month's newsletter as history, a draft email
campaign to the demo's engaged contacts, and a brand kit with a stored MJML layout that an announcement
template is written in (idempotent).

The draft is left a draft: the demo has no real sending account, and the pre-send checklist says so. The
history is a finished send whose deliveries exist, and whose opens, clicks and conversions are recorded
through the services a real one uses, so every figure of it agrees wherever it is shown."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.choices import EventKind
from crm.demo import COMPANIES, seed_topics
from crm.models import Segment
from crm.services import contact_record_event
from media.choices import AssetKindChoices, AssetStatusChoices
from media.models import Asset
from publishing.choices import CampaignStatus
from publishing.email import conf
from publishing.email.brand import BRAND_KIT_PK, STARTER_LAYOUT
from publishing.email.choices import DeliveryStatus, SendStatus, TemplateFormat
from publishing.email.composing import LinkBook
from publishing.email.models import BrandKit, EmailCampaign, EmailDelivery, EmailLayout, EmailLink, EmailTemplate
from publishing.email.services import email_block_create, email_campaign_set_up, email_template_create
from publishing.email.services.brand import brand_kit_update, email_layout_create
from publishing.email.services.campaigns import audience_queryset, email_campaign_transition
from publishing.email.services.feedback import delivery_record_click, delivery_record_open
from publishing.models import Campaign
from publishing.services import campaign_create, campaign_transition

PAST_SEND = "October newsletter"
PAST_SEND_LINK = "https://example.com/blog/spring-release"  # a link of the template (HTML above)

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


def _past_send(marketer, template: EmailTemplate) -> None:
    """Sent yesterday to everyone at the demo's companies: about half opened, a third of those clicked, a few
    bought."""
    if Campaign.objects.filter(name=PAST_SEND).exists():
        return
    campaign = campaign_create(by=marketer, name=PAST_SEND, description="Last month's email, with its results.",
                               audience={"domains": [domain for domain, _name, _industry in COMPANIES]})
    email_campaign = email_campaign_set_up(campaign=campaign, template=template, by=marketer,
                                           from_email="news@aicmo.example", from_name="AICMO demo")
    contacts = list(audience_queryset(campaign).order_by("pk"))
    sent_at = timezone.now() - timedelta(days=1)
    deliveries = EmailDelivery.objects.bulk_create([EmailDelivery(
        campaign=campaign, contact=contact, status=DeliveryStatus.SENT, attempts=1, sent_at=sent_at,
        provider="demo history (nothing was sent)",
        message_id=f"<history.{campaign.pk}.{contact.pk}@{conf.message_id_domain()}>") for contact in contacts])
    email_campaign_transition(email_campaign=email_campaign, to=SendStatus.SENDING, by=marketer,
                              started_at=sent_at, audience_size=len(deliveries))
    email_campaign_transition(email_campaign=email_campaign, to=SendStatus.COMPLETED, note="Demo history",
                              finished_at=sent_at)
    campaign_transition(campaign=campaign, to=CampaignStatus.RUNNING, by=marketer)
    campaign_transition(campaign=campaign, to=CampaignStatus.COMPLETED, note="Demo history")
    link = EmailLink.objects.get(pk=LinkBook(campaign.pk).ids_for({PAST_SEND_LINK})[PAST_SEND_LINK])
    picks = random.Random(11)  # the same history every time
    for delivery in EmailDelivery.objects.filter(campaign=campaign).select_related("contact").order_by("pk"):
        if picks.random() >= 0.5:
            continue
        delivery_record_open(delivery=delivery)
        if picks.random() < 0.35:
            delivery_record_click(delivery=delivery, link=link)
            if picks.random() < 0.3:
                contact_record_event(contact=delivery.contact, kind=EventKind.CONVERTED, value="120.00",
                                     campaign_id=campaign.pk, channel="email", source_kind="delivery",
                                     source_id=str(delivery.pk))


BRAND_LAYOUT = "Brand layout"
ANNOUNCEMENT = "Product announcement"
# The announcement fills the layout's `content` block; the layout brings the logo, colours, fonts, the
# postal address, the social links and the unsubscribe link.
ANNOUNCEMENT_BODY = (
    "{% block content %}"
    '<mj-text font-size="22px" font-family="{{ brand.fonts.heading }}">The spring release is here</mj-text>'
    '<mj-text>Hi {{ contact.first_name|default:"there" }}, imports are faster, the content calendar is new '
    "and every channel publishes in one click.</mj-text>"
    '<mj-button background-color="{{ brand.colours.secondary }}" href="https://example.com/blog/spring-release">'
    "See what changed</mj-button>"
    "{% endblock %}"
)


def _brand(marketer) -> EmailLayout:
    """The brand kit (the approved demo picture as its logo when there is one) and the layout from the
    "New layout" starter, once each."""
    if not BrandKit.objects.filter(pk=BRAND_KIT_PK).exists():
        logo = (Asset.objects.filter(kind=AssetKindChoices.IMAGE, status=AssetStatusChoices.APPROVED)
                .order_by("pk").first())
        brand_kit_update(by=marketer, name="AICMO demo", logo=logo, primary_colour="#1e3a8a",
                         secondary_colour="#0e9f6e",
                         footer_address="AICMO Demo Ltd\n12 Harbour Street\nBristol BS1 4QA",
                         website_url="https://example.com", linkedin_url="https://www.linkedin.com/company/example")
    return EmailLayout.objects.filter(name=BRAND_LAYOUT).first() or email_layout_create(
        by=marketer, name=BRAND_LAYOUT, format=TemplateFormat.MJML, body=STARTER_LAYOUT)


def seed() -> str:
    marketer = get_user_model().objects.filter(username="marketer").first()
    layout = _brand(marketer)
    if not EmailTemplate.objects.filter(name=ANNOUNCEMENT).exists():
        email_template_create(by=marketer, name=ANNOUNCEMENT, subject="The spring release is here",
                              preheader="Faster imports, a content calendar, one-click publishing",
                              format=TemplateFormat.MJML, layout=layout, html_body=ANNOUNCEMENT_BODY)
    template = EmailTemplate.objects.filter(name="Monthly newsletter").first() or email_template_create(
        by=marketer, name="Monthly newsletter", subject='News for {{ contact.first_name|default:"you" }}',
        preheader="What shipped this month", html_body=HTML, text_body="")
    _topic_blocks(template)
    _past_send(marketer, template)
    if not EmailCampaign.objects.filter(campaign__name="November newsletter").exists():
        segment = Segment.objects.order_by("pk").first()
        campaign = Campaign.objects.filter(name="November newsletter").first() or campaign_create(
            by=marketer, name="November newsletter", description="The monthly email to engaged contacts.",
            audience={"segment_ids": [segment.pk]} if segment else {})
        email_campaign_set_up(campaign=campaign, template=template, by=marketer,
                              from_email="news@aicmo.example", from_name="AICMO demo")
    return (f"{EmailTemplate.objects.count()} email templates ({layout.templates.count()} in the {BRAND_LAYOUT}), "
            f"{EmailCampaign.objects.count()} email campaigns")
