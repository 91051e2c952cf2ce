"""Writes on static lists of contacts: the lists themselves and who is on them."""

from django.db import connection, transaction
from django.utils import timezone

from aicmo_site.audit import audit_operation
from aicmo_site.errors import ConflictError, DomainError
from crm.models import Contact, ContactList, ContactListMember
from crm.services.contacts import contact_queryset


def _name(name: str, *, other_than: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the list.", code="invalid", extra={"fields": {"name": ["Name the list."]}})
    taken = ContactList.objects.filter(name__iexact=name).exclude(pk=other_than)
    if taken.exists():
        raise ConflictError(f"A list named {name!r} already exists.", code="duplicate_name",
                            extra={"fields": {"name": [f"A list named {name!r} already exists."]}})
    return name


@transaction.atomic
def contact_list_create(*, name: str, description: str = "", by=None) -> ContactList:
    contact_list = ContactList(name=_name(name), description=description, created_by=by)
    contact_list.full_clean()
    contact_list.save()
    return contact_list


@transaction.atomic
def contact_list_update(*, contact_list: ContactList, **fields) -> ContactList:
    if "name" in fields:
        fields["name"] = _name(fields["name"], other_than=contact_list.pk)
    for name, value in fields.items():
        setattr(contact_list, name, value)
    contact_list.full_clean()
    contact_list.save()
    return contact_list


@transaction.atomic
def contact_list_delete(*, contact_list: ContactList) -> None:
    """The list and its memberships go; the contacts stay."""
    contact_list.delete()


@transaction.atomic
def contact_list_add(*, contact_list: ContactList, contacts, by=None) -> int:
    """Puts every contact of a queryset or list on the list in one INSERT … SELECT, however many match
    ("all 40,000 matching this filter" is one statement, not a loop); people already on it and erased
    contacts are skipped. Returns how many were added."""
    table = connection.ops.quote_name(ContactListMember._meta.db_table)
    picked = contact_queryset(contacts).filter(erased_at__isnull=True).order_by().values("id")
    ids_sql, params = picked.query.sql_with_params()
    # A quoted table name and Django's own compiled subquery; every value is a parameter. ON CONFLICT
    # covers a concurrent add of the same person (both databases parse it after a SELECT with a WHERE).
    sql = (
        f"INSERT INTO {table} (contact_list_id, contact_id, added_by_id, added_at) "  # noqa: S608
        f"SELECT %s, picked.id, %s, %s FROM ({ids_sql}) picked WHERE picked.id IS NOT NULL "
        f"ON CONFLICT (contact_list_id, contact_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [contact_list.pk, getattr(by, "pk", None), timezone.now(), *params])
        added = cursor.rowcount
    if added:
        ContactList.objects.filter(pk=contact_list.pk).update(updated_at=timezone.now())
        audit_operation(model=Contact, action=f"Added to the list {contact_list.name}", count=added, by=by,
                        details={"list_id": contact_list.pk})
    return added


@transaction.atomic
def contact_list_remove(*, contact_list: ContactList, contacts) -> int:
    """Takes the given contacts off the list in one DELETE; returns how many were on it."""
    removed, _ = ContactListMember.objects.filter(
        contact_list=contact_list, contact_id__in=contact_queryset(contacts).order_by().values("pk")).delete()
    if removed:
        ContactList.objects.filter(pk=contact_list.pk).update(updated_at=timezone.now())
        audit_operation(model=Contact, action=f"Taken off the list {contact_list.name}", count=removed,
                        details={"list_id": contact_list.pk})
    return removed
