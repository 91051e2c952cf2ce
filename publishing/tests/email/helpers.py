"""Building a ready-to-send email campaign over a real test SMTP server."""

from crm.tests.factories import ContactFactory, TagFactory
from publishing.email.services import email_campaign_send
from publishing.tests.email.factories import EmailCampaignFactory, EmailTemplateFactory, smtp_account
from publishing.tests.factories import CampaignFactory


def campaign_for(contacts, *, template=None, **email_fields):
    tag = TagFactory()
    for contact in contacts:
        contact.tags.add(tag)
    campaign = CampaignFactory(audience={"tag_ids": [tag.pk]})
    return EmailCampaignFactory(campaign=campaign, template=template or EmailTemplateFactory(), **email_fields)


def ready_campaign(server, count: int = 3, name: str = "smtp-test", **contact_fields):
    smtp_account(server, name=name)
    contacts = [ContactFactory(**contact_fields) for _ in range(count)]
    return campaign_for(contacts), contacts


def started(email_campaign, by=None):
    return email_campaign_send(email_campaign=email_campaign, by=by)
