import datetime
import importlib

import django.db.models.functions.comparison
from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest

AddIndexWhileWriting = importlib.import_module("crm.migrations.0032_contact_score_index").AddIndexWhileWriting

# Kinds that are no activity of the person (crm.choices.NOT_ACTIVITY_EVENTS when this was written).
NOT_ACTIVITY = ("sent", "delivered", "bounced")
# Contacts per UPDATE: each batch commits on its own (the migration is not atomic), so imports and tracking
# folds wait on at most this many locked rows, never on the whole table.
BATCH = 10_000


def last_activity_fill(apps, schema_editor):
    """Each contact's latest event of activity, or the latest that data retention removed, whichever is later:
    one set-based UPDATE per id range, each contact's latest event read from crm_event_contact_kind_time."""
    Contact = apps.get_model("crm", "Contact")
    EngagementEvent = apps.get_model("crm", "EngagementEvent")
    db = schema_editor.connection.alias
    activity = EngagementEvent.objects.using(db).filter(contact=OuterRef("pk")).exclude(kind__in=NOT_ACTIVITY)
    latest = Subquery(activity.order_by("-occurred_at").values("occurred_at")[:1])
    contacts = Contact.objects.using(db)
    low, high = contacts.order_by("pk").values_list("pk", flat=True).first(), contacts.order_by("-pk").values_list(
        "pk", flat=True).first()
    if low is None:
        return
    for start in range(low, high + 1, BATCH):
        (contacts.filter(pk__gte=start, pk__lt=start + BATCH)
         .filter(Q(Exists(activity)) | Q(last_removed_activity_at__isnull=False))
         .update(last_activity_at=Greatest(Coalesce(latest, "last_removed_activity_at"),
                                           Coalesce("last_removed_activity_at", latest))))


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY cannot run in a transaction; the fill commits batch by batch

    dependencies = [
        ("crm", "0032_contact_score_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="last_activity_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="last activity",
                help_text="When the contact last opened, clicked, replied, filled a form, paid or was noted (any "
                          "event but a sending, delivery or bounce)"),
        ),
        migrations.RunPython(last_activity_fill, migrations.RunPython.noop, elidable=True),
        AddIndexWhileWriting(
            model_name="contact",
            index=models.Index(django.db.models.functions.comparison.Coalesce("last_activity_at", models.Value(
                datetime.datetime(1, 1, 1, 0, 0, tzinfo=datetime.UTC), output_field=models.DateTimeField())),
                models.F("id"), name="crm_contact_recently_active"),
        ),
        AddIndexWhileWriting(
            model_name="contact",
            index=models.Index(django.db.models.functions.comparison.Coalesce("last_activity_at", models.Value(
                datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.UTC), output_field=models.DateTimeField())),
                models.F("id"), name="crm_contact_long_inactive"),
        ),
    ]
