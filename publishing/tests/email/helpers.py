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
    of `start`'s weekday. Returns a campaign whose audience they are and its email, not yet sent.

    Every row is written by an INSERT … SELECT (the contacts copied from a first one made by the ORM, so each
    column keeps its type and default on both databases): made in Python, 100,000 contacts took minutes."""
    from datetime import timedelta

    from django.db import connection
    from django.db.models import F
    from django.db.models.functions import Mod

    from crm.choices import EventKind
    from crm.models import Contact, EngagementEvent

    model = ContactFactory(email=f"{prefix}-0@habits.example", domain="habits.example")
    columns = [field.column for field in Contact._meta.concrete_fields if not field.primary_key]
    copied = ", ".join("%s || CAST(series.n AS TEXT) || %s" if column == "email" else f"model.{column}"
                       for column in columns)
    contacts = Contact.objects.filter(email__startswith=f"{prefix}-").order_by()
    habits_sql, habits_params = (contacts.annotate(bucket=Mod("pk", 24), habit_id=F("pk"))
                                 .values("habit_id", "bucket").query.sql_with_params())
    day = start.replace(hour=0, minute=30, second=0, microsecond=0)
    times = [(hour, connection.ops.adapt_datetimefield_value(day - timedelta(days=7 * week, hours=-hour)))
             for hour in range(24) for week in (1, 2, 3)]
    tag = TagFactory(name=f"{prefix}-audience")
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE series(n) AS (SELECT 1 WHERE %s > 1 UNION ALL SELECT n + 1 FROM series WHERE n + 1 < %s) "
            f"INSERT INTO {Contact._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {copied} FROM {Contact._meta.db_table} AS model, series WHERE model.id = %s",
            [count, count, f"{prefix}-", "@habits.example", model.pk])
        cursor.execute(
            f"WITH at(bucket, occurred_at) AS (VALUES {', '.join('(%s, %s)' for _ in times)}) "  # noqa: S608
            f"INSERT INTO {EngagementEvent._meta.db_table} "
            "(contact_id, kind, occurred_at, channel, source_kind, source_id, detail) "
            "SELECT habit.habit_id, %s, at.occurred_at, 'email', 'import', '', '{}' "
            f"FROM ({habits_sql}) AS habit JOIN at ON at.bucket = habit.bucket",
            [*(value for pair in times for value in pair), EventKind.OPENED, *habits_params])
        cursor.execute(
            f"INSERT INTO {Contact.tags.through._meta.db_table} (contact_id, tag_id) "  # noqa: S608
            f"SELECT habit.habit_id, %s FROM ({habits_sql}) AS habit",
            [tag.pk, *habits_params])
    campaign = CampaignFactory(audience={"tag_ids": [tag.pk]})
    return EmailCampaignFactory(campaign=campaign, deliver_at_best_hour=True)
