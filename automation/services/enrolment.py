"""Putting contacts on a journey: one INSERT … SELECT, the re-entry rule kept by the database."""

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from aicmo_site.errors import ConflictError
from automation.choices import ENROLMENT_LIVE, EnrolmentStatus, JourneyStatus, ReEntry
from automation.models import Journey, JourneyEnrolment, JourneyStep
from crm.models import Contact


def _first_step(journey: Journey) -> JourneyStep:
    return JourneyStep.objects.filter(journey=journey, version=journey.version).order_by("position", "id").first()


@transaction.atomic
def journey_enrol(*, journey: Journey, contacts: QuerySet[Contact], source: str, now=None) -> int:
    """Enrol every contact of the queryset in one INSERT … SELECT, due at once on the first step.

    The re-entry rule is kept by the database: once ever and once at a time are partial unique indexes
    the insert skips over (ON CONFLICT DO NOTHING), so two triggers racing enrol a contact once. Returns
    how many were enrolled."""
    if journey.status != JourneyStatus.ACTIVE:
        raise ConflictError("Contacts enter an active journey only.", code="not_active")
    now = now or timezone.now()
    picked = contacts.filter(erased_at__isnull=True).order_by().values("pk").distinct()
    if journey.reentry == ReEntry.ONCE_EVER:
        picked = picked.exclude(pk__in=JourneyEnrolment.objects.filter(journey=journey, is_test=False).values(
            "contact_id"))
    elif journey.reentry == ReEntry.ONCE_AT_A_TIME:
        picked = picked.exclude(pk__in=JourneyEnrolment.objects.filter(
            journey=journey, status__in=ENROLMENT_LIVE, is_test=False).values("contact_id"))
    try:
        select_sql, params = picked.annotate(enrol_id=F("pk")).values("enrol_id").query.sql_with_params()
    except EmptyResultSet:  # contacts given as an empty list of ids: no one to enrol
        return 0
    table = connection.ops.quote_name(JourneyEnrolment._meta.db_table)
    with connection.cursor() as cursor:
        # A quoted table name and Django's own compiled subquery; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {table} (journey_id, contact_id, step_id, visit, due_at, status, reentry, source, "  # noqa: S608
            "exit_reason, entered_at, is_test) "
            f"SELECT %s, picked.enrol_id, %s, 0, %s, %s, %s, %s, '', %s, %s FROM ({select_sql}) picked "
            "WHERE 1 = 1 ON CONFLICT DO NOTHING",
            [journey.pk, _first_step(journey).pk, now, EnrolmentStatus.ACTIVE, journey.reentry, source[:40], now,
             False, *params],
        )
        return cursor.rowcount


