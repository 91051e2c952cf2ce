"""crm's data retention: unconfirmed double opt-in contacts, inactive contacts, import files, and the
removal of old engagement events (which analytics asks for once it has folded them into its roll-ups).

Each apply works in batches, each batch in its own transaction, so no lock is held for long.
"""

from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest

from aicmo_site.audit import audit_operation, audit_quietly
from aicmo_site.models import InactiveContactAction, RetentionKind
from aicmo_site.retention import INACTIVE_TAG, retention_time_up
from crm.choices import RUN_TERMINAL, ConsentStatus
from crm.form_models import FormSubmission
from crm.models import Contact, EngagementEvent, ImportRun
from crm.privacy import contact_erase_inactive
from crm.services import contacts_tag, contacts_untag

# contact_create's source for a contact that a form brought in (crm.services.forms).
FORM_SOURCE_PREFIX = "Form: "


def unconfirmed_contacts(cutoff):
    """Contacts a double opt-in form brought in who never confirmed any sending and are waiting since
    before `cutoff`. A contact the team knew before the form (imported, added by hand) is never one."""
    confirmed = FormSubmission.objects.filter(contact=OuterRef("pk"), confirmed_at__isnull=False)
    sent = FormSubmission.objects.filter(contact=OuterRef("pk"))
    return (Contact.objects.filter(consent_status=ConsentStatus.PENDING, consent_changed_at__lt=cutoff,
                                   erased_at__isnull=True, source__startswith=FORM_SOURCE_PREFIX)
            .filter(Exists(sent)).exclude(Exists(confirmed)))


def inactive_contacts(cutoff):
    """Contacts with no engagement event since `cutoff`, none among the events retention removed, and
    added before it."""
    recent = EngagementEvent.objects.filter(contact=OuterRef("pk"), occurred_at__gte=cutoff)
    return (Contact.objects.filter(erased_at__isnull=True, created_at__lt=cutoff)
            .exclude(last_removed_activity_at__gte=cutoff).exclude(Exists(recent)))


def _batches(queryset, batch_size: int):
    """Ids in batches, each read afresh after the last id seen (each batch changes what the query finds);
    none once the run's time is up (the next run goes on from there)."""
    after = 0
    while not retention_time_up():
        ids = list(queryset.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        after = ids[-1]


def _unconfirmed_apply(*, policy, cutoff, dry_run: bool, batch_size: int) -> int:
    waiting = unconfirmed_contacts(cutoff)
    if dry_run:
        return waiting.count()
    removed = 0
    for ids in _batches(waiting, batch_size):
        with transaction.atomic(), audit_quietly():
            # Their sendings, events and any delivery go with them (the foreign keys cascade).
            removed += Contact.objects.filter(pk__in=ids).delete()[1].get(Contact._meta.label, 0)
    if removed:
        audit_operation(model=Contact, action="Removed by data retention (never confirmed their sign-up)",
                        count=removed)
    return removed


def _inactive_apply(*, policy, cutoff, dry_run: bool, batch_size: int) -> int:
    inactive = inactive_contacts(cutoff)
    if policy.action == InactiveContactAction.ERASE:
        if dry_run:
            return inactive.count()
        erased = 0
        for ids in _batches(inactive, batch_size):
            erased += sum(contact_erase_inactive(contact_id=pk) for pk in ids)
        return erased
    untagged = inactive.exclude(tags__name=INACTIVE_TAG)
    if dry_run:
        return untagged.count()
    # A flagged contact that has come back (or been added again) needs no review any more.
    returned = Contact.objects.filter(tags__name=INACTIVE_TAG).exclude(pk__in=inactive.values("pk"))
    if returned.exists():
        contacts_untag(contacts=returned, tag_names=[INACTIVE_TAG],
                       audit_details={"retention": RetentionKind.INACTIVE_CONTACTS.value})
    flagged = 0
    for ids in _batches(untagged, batch_size):
        flagged += contacts_tag(contacts=ids, tag_names=[INACTIVE_TAG],
                                audit_details={"retention": RetentionKind.INACTIVE_CONTACTS.value})
    return flagged


def _import_files_apply(*, policy, cutoff, dry_run: bool, batch_size: int) -> int:
    """The uploaded file and the error report go; the import's figures and its run stay."""
    old = (ImportRun.objects.filter(status__in=RUN_TERMINAL, finished_at__lt=cutoff)
           .exclude(file="", error_report=""))
    if dry_run:
        return old.count()
    removed = 0
    for ids in _batches(old, batch_size):
        for run in ImportRun.objects.filter(pk__in=ids):
            with transaction.atomic():
                for stored in (run.file, run.error_report):
                    if stored:
                        # Storage deletion cannot be rolled back: the row is cleared right after, and a file
                        # already gone is no error on the next run.
                        stored.storage.delete(stored.name)
                ImportRun.objects.filter(pk=run.pk).update(file="", error_report="")
            removed += 1
    if removed:
        audit_operation(model=ImportRun, action="Deleted files and error reports by data retention", count=removed)
    return removed


@transaction.atomic
def engagement_events_remove(*, ids: list[int]) -> int:
    """Deletes these events (analytics has folded them into its roll-ups); each contact keeps the time of
    the latest one, so that it is not judged inactive for the history that went."""
    if connection.vendor == "postgresql":
        return _events_remove_postgresql(ids)
    batch = EngagementEvent.objects.filter(pk__in=ids)
    latest = Subquery(batch.filter(contact=OuterRef("pk")).order_by().values("contact")
                      .annotate(latest=Max("occurred_at")).values("latest")[:1])
    Contact.objects.filter(pk__in=batch.values("contact_id")).update(
        last_removed_activity_at=Greatest(Coalesce("last_removed_activity_at", latest), latest))
    return batch.delete()[0]


def _events_remove_postgresql(ids: list[int]) -> int:
    """One statement: the deleted rows give the contacts' latest times. The ORM's correlated subquery
    compared every candidate row with the whole id list, once per contact (bench retention).

    The contacts are locked in id order (`locked`) before they are updated: an UPDATE ... FROM locks rows
    in whatever order its join yields them, and two bulk updates of overlapping contacts in different
    orders (a journey's batch, an import) can deadlock; in one order, one simply waits for the other."""
    events = connection.ops.quote_name(EngagementEvent._meta.db_table)
    contacts = connection.ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {events} WHERE id = ANY(%s) RETURNING contact_id, occurred_at), "
            f"latest AS (SELECT contact_id, max(occurred_at) AS at FROM gone GROUP BY contact_id), "
            f"locked AS (SELECT c.id, latest.at FROM {contacts} c JOIN latest ON c.id = latest.contact_id "
            f"WHERE c.last_removed_activity_at IS DISTINCT FROM GREATEST(c.last_removed_activity_at, latest.at) "
            f"ORDER BY c.id FOR UPDATE OF c), "
            f"stamped AS (UPDATE {contacts} c SET last_removed_activity_at = "
            f"GREATEST(c.last_removed_activity_at, locked.at) FROM locked WHERE c.id = locked.id) "
            f"SELECT count(*) FROM gone", [list(ids)])
        return cursor.fetchone()[0]


RETENTION = {
    RetentionKind.UNCONFIRMED_CONTACTS: _unconfirmed_apply,
    RetentionKind.INACTIVE_CONTACTS: _inactive_apply,
    RetentionKind.IMPORT_FILES: _import_files_apply,
}
