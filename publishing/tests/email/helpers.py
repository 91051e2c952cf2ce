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


def audience_with_open_habits(count: int, *, start, prefix: str = "habit"):
    """`count` contacts, set-based: contact i opened email three times, in the last three weeks, at hour i % 24
    of `start`'s weekday. Returns a campaign whose audience they are and its email, not yet sent."""
    from datetime import timedelta

    from django.db import connection
    from django.db.models import F
    from django.db.models.functions import Mod

    from crm.choices import EventKind
    from crm.models import Contact, EngagementEvent

    for first in range(0, count, 5000):
        Contact.objects.bulk_create([Contact(email=f"{prefix}-{n}@habits.example", domain="habits.example")
                                     for n in range(first, min(count, first + 5000))])
    contacts = Contact.objects.filter(email__startswith=f"{prefix}-").order_by()
    table = EngagementEvent._meta.db_table
    day = start.replace(hour=0, minute=30, second=0, microsecond=0)
    with connection.cursor() as cursor:
        for hour in range(24):
            bucket = contacts.annotate(bucket=Mod("pk", 24), habit_id=F("pk")).filter(bucket=hour)
            select_sql, params = bucket.values("habit_id").query.sql_with_params()
            for week in (1, 2, 3):
                at = connection.ops.adapt_datetimefield_value(day - timedelta(days=7 * week, hours=-hour))
                cursor.execute(
                    f"INSERT INTO {table} (contact_id, kind, occurred_at, channel, source_kind, source_id, detail) "  # noqa: S608
                    f"SELECT habit.habit_id, %s, %s, 'email', 'import', '', '{{}}' FROM ({select_sql}) AS habit",
                    [EventKind.OPENED, at, *params])
    tag = TagFactory(name=f"{prefix}-audience")
    Contact.tags.through.objects.bulk_create(
        [Contact.tags.through(contact_id=pk, tag_id=tag.pk) for pk in contacts.values_list("pk", flat=True)],
        batch_size=5000)
    campaign = CampaignFactory(audience={"tag_ids": [tag.pk]})
    return EmailCampaignFactory(campaign=campaign, deliver_at_best_hour=True)
