"""The test database's flush, after each transactional test: the content types, permissions and roles come back
as migrate left them, ids included, and the post_migrate handlers that follow find nothing to write
(aicmo_site.testing.kept_rows)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aicmo_site.roles import ANALYST


def _rows():
    return (sorted(ContentType.objects.values_list("pk", "app_label", "model")),
            sorted(Permission.objects.values_list("pk", "content_type_id", "codename")),
            {group.name: sorted(group.permissions.values_list("pk", flat=True)) for group in Group.objects.all()})


@pytest.mark.django_db(transaction=True)
def test_a_flush_puts_back_the_content_types_permissions_and_roles_as_migrate_left_them():
    migrated = _rows()
    Group.objects.get(name=ANALYST).permissions.clear()
    Group.objects.create(name="Made by a test")
    Permission.objects.create(codename="made_by_a_test", name="Made by a test",
                              content_type=ContentType.objects.first())

    with CaptureQueriesContext(connection) as flush:
        call_command("flush", interactive=False, verbosity=0, reset_sequences=False)  # as pytest-django's

    assert _rows() == migrated
    written = [q["sql"] for q in flush if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
               and "aicmo_test_kept_" not in q["sql"]]
    assert written == []
