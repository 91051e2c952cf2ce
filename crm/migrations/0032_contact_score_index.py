from django.db import migrations, models


class AddIndexWhileWriting(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL: imports and scoring keep writing contacts while a million rows
    are indexed (a plain CREATE INDEX blocks them until it ends). Other databases build it the plain way."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.add_index(model, self.index, concurrently=True)
            else:
                schema_editor.add_index(model, self.index)


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("crm", "0031_repository_token_account"),
    ]

    operations = [
        AddIndexWhileWriting(
            model_name="contact",
            index=models.Index(fields=["engagement_score", "id"], name="crm_contact_score"),
        ),
    ]
