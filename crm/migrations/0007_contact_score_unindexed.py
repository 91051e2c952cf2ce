import django.core.validators
from django.db import migrations, models

# Room left on each page of crm_contact so that rewriting a score (or a status) can keep the new row
# version on the same page: PostgreSQL then skips every index (a HOT update). Applies to pages
# written from now on; VACUUM FULL or CLUSTER would repack existing ones.
CONTACT_FILLFACTOR = 85


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE crm_contact SET (fillfactor = {CONTACT_FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE crm_contact RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0006_event_campaign_reach_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contact",
            name="engagement_score",
            field=models.PositiveSmallIntegerField(default=0, validators=[django.core.validators.MaxValueValidator(100)]),
        ),
        migrations.RunPython(set_fillfactor, reset_fillfactor),
    ]
