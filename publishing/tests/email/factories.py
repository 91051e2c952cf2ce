"""Factories of email campaigns; valid by default, a test states only what matters to it."""

import factory

from gateways import services as gateway_services
from gateways.capabilities import Capability
from publishing.email.models import EmailBlock, EmailCampaign, EmailDelivery, EmailTemplate
from publishing.tests.factories import CampaignFactory

HTML_BODY = (
    '<html><body><p>Hi {{ contact.first_name|default:"there" }},</p>'
    '<p>News for {{ contact.company.name|default:"your team" }}.</p>'
    '<p><a href="https://example.org/launch?utm_source=email">Read the launch post</a></p>'
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>'
)


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailTemplate

    name = factory.Sequence(lambda n: f"Newsletter {n}")
    subject = "Hello {{ contact.first_name|default:\"there\" }}"
    preheader = "What is new this month"
    html_body = HTML_BODY
    text_body = ""


class EmailBlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailBlock

    template = factory.SubFactory(EmailTemplateFactory)
    slot = "articles"
    title = factory.Sequence(lambda n: f"Article {n}")
    html = factory.LazyAttribute(lambda block: f"<h2>{block.title}</h2>")


class EmailCampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailCampaign

    campaign = factory.SubFactory(CampaignFactory)
    template = factory.SubFactory(EmailTemplateFactory)
    from_email = "news@aicmo.example"
    from_name = "AICMO News"


class EmailDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailDelivery

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory("crm.tests.factories.ContactFactory")


def smtp_account(server, *, name: str = "smtp-test", priority: int = 10, **settings):
    """A sending account that goes through a real test SMTP server (gateways.testing)."""
    return gateway_services.account_create(
        capability=Capability.EMAIL_SENDING, adapter="smtp", name=name, priority=priority,
        settings=server.adapter_settings(from_email="news@aicmo.example", **settings),
    )
