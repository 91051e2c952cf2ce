import copy

from django.db import migrations, models

# The tag and topic link tables lose their database foreign keys (see Contact.tags): at commit each
# imported link checked its contact and its tag (SELECT ... FOR KEY SHARE), 38% of an import's
# database time. Django's AlterField treats the change of an auto-created M2M table as a no-op, so
# the constraints are dropped here through the through models' own fields.
LINKS = ("tags", "topics")
# Each repeats the leading column of its table's unique (contact_id, tag_id / topic_id) index, and costs
# every link written an index insert. Rebuilding a table (SQLite's way to drop a foreign key) makes
# them again from the model, so both are dropped after it (the tags one was already gone, see 0005).
TAG_LINK_CONTACT = "crm_contact_tags_contact_id_d3af1cc9"
TOPIC_LINK_CONTACT = "crm_contact_topics_contact_id_7d5565dd"


def _alter_link_foreign_keys(apps, schema_editor, *, db_constraint: bool):
    contact = apps.get_model("crm", "Contact")
    for name in LINKS:
        through = contact._meta.get_field(name).remote_field.through
        for old in [f for f in through._meta.local_fields if f.is_relation]:
            # The fields come from the state before 0008 either way: say what the table has now.
            old.db_constraint = not db_constraint
            new = copy.copy(old)
            new.db_constraint = db_constraint
            schema_editor.alter_field(through, old, new)
            # SQLite rebuilds the table from the model's fields for the next change: keep this one.
            old.db_constraint = db_constraint


def drop_link_foreign_keys(apps, schema_editor):
    _alter_link_foreign_keys(apps, schema_editor, db_constraint=False)
    schema_editor.execute(f"DROP INDEX IF EXISTS {TAG_LINK_CONTACT}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {TOPIC_LINK_CONTACT}")


def restore_link_foreign_keys(apps, schema_editor):
    _alter_link_foreign_keys(apps, schema_editor, db_constraint=True)
    schema_editor.execute(f"DROP INDEX IF EXISTS {TAG_LINK_CONTACT}")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {TOPIC_LINK_CONTACT} ON crm_contact_topics (contact_id)")


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0007_contact_score_unindexed'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='contact',
                    name='tags',
                    field=models.ManyToManyField(blank=True, db_constraint=False, related_name='contacts',
                                                 to='crm.tag'),
                ),
                migrations.AlterField(
                    model_name='contact',
                    name='topics',
                    field=models.ManyToManyField(blank=True, db_constraint=False,
                                                 help_text='Topics of interest; change them through '
                                                           'crm.services.contact_topics_set',
                                                 related_name='contacts', to='crm.topic'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_link_foreign_keys, restore_link_foreign_keys)],
        ),
    ]
