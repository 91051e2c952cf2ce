from django.db import migrations

ROLES = ("Admin", "Marketer", "Approver", "Analyst")


def create_roles(apps, schema_editor):
    # The groups exist from the first migrate; their permissions are given by roles_sync after
    # every migrate (post_migrate), once every app's permissions exist.
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, remove_roles)]
