"""Writes on companies, segments and the removal of contacts."""

from django.db import connection, transaction

from aicmo_site.audit import audit_operation, audit_quietly
from aicmo_site.errors import ConflictError
from crm.models import Company, Contact, Segment
from crm.segments import rules_q
from crm.services.contacts import contact_queryset


@transaction.atomic
def company_create(**fields) -> Company:
    fields["domain"] = (fields.get("domain") or "").strip().lower().lstrip("@")
    if Company.objects.filter(domain=fields["domain"]).exists():
        raise ConflictError(f"A company with the domain {fields['domain']} already exists.", code="duplicate_domain")
    company = Company(**fields)
    company.full_clean()
    company.save()
    # People already known at that domain belong to it, unless someone chose their company by hand.
    Contact.objects.filter(domain=company.domain, company__isnull=True).update(company=company)
    return company


@transaction.atomic
def company_update(*, company: Company, **fields) -> Company:
    if "domain" in fields:
        fields["domain"] = fields["domain"].strip().lower().lstrip("@")
    for name, value in fields.items():
        setattr(company, name, value)
    company.full_clean()
    company.save()
    return company


@transaction.atomic
def company_delete(*, company: Company) -> None:
    """Contact.company has no database foreign key (imports write it fast), so on PostgreSQL the delete
    first waits for every transaction writing contacts (an import's chunk that may be assigning this
    company) and holds new ones off until it commits: it then clears every contact of the company,
    and a write after it no longer finds the company. Company deletes are rare; contact writes wait
    for one for milliseconds. SQLite has one writer at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # SHARE ROW EXCLUSIVE: excludes writers (ROW EXCLUSIVE) and another delete (plain SHARE
            # held by two deletes would deadlock on their own updates of contacts).
            cursor.execute(f"LOCK TABLE {Contact._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")  # noqa: S608
    company.delete()


def _segment_save(segment: Segment) -> Segment:
    rules_q(segment.rules)
    segment.full_clean()
    segment.save()
    return segment


@transaction.atomic
def segment_create(*, name: str, rules: dict, description: str = "", announce_entries: bool = False,
                   reading_grade: int | None = None, by=None) -> Segment:
    if Segment.objects.filter(name=name).exists():
        raise ConflictError(f"A segment named {name!r} already exists.", code="duplicate_name")
    return _segment_save(Segment(name=name, rules=rules, description=description, announce_entries=announce_entries,
                                 reading_grade=reading_grade, created_by=by))


@transaction.atomic
def segment_update(*, segment: Segment, **fields) -> Segment:
    if "name" in fields and Segment.objects.filter(name=fields["name"]).exclude(pk=segment.pk).exists():
        raise ConflictError(f"A segment named {fields['name']!r} already exists.", code="duplicate_name")
    if "rules" in fields:
        rules_q(fields["rules"])  # refuse before the caller's object is touched
    for name, value in fields.items():
        setattr(segment, name, value)
    return _segment_save(segment)


@transaction.atomic
def segment_delete(*, segment: Segment) -> None:
    segment.delete()


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    """Removes the contact and its history; erasure that keeps counts is crm's data-protection path."""
    contact.delete()


@transaction.atomic
def contacts_delete(*, contacts) -> int:
    """Removes the chosen contacts and their history in one statement; returns how many."""
    with audit_quietly():
        deleted = contact_queryset(contacts).filter(erased_at__isnull=True).delete()[1].get(Contact._meta.label, 0)
    if deleted:
        audit_operation(model=Contact, action="Deleted", count=deleted)
    return deleted
