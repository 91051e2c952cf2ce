"""Writes on contacts: create, edit, lifecycle moves, tags, scores and merging enrichment."""

from collections.abc import Iterable

from auditlog.context import auditlog_disabled
from auditlog.models import LogEntry
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import QuerySet

from aicmo_site.audit import audit_operation
from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.transitions import BulkChange, Change, Workflow
from crm.choices import LIFECYCLE_TERMINAL, LIFECYCLE_TRANSITIONS, FieldSource, LifecycleStatus
from crm.models import Company, Contact, EnrichmentRecord, LifecycleTransition, Tag
from crm.tagging import tags_adding_send
from crm.webhook_events import contact_event_emit

# Fields a person may set on a contact; lifecycle, email status and consent have their own services.
EDITABLE_FIELDS = frozenset({
    "email", "first_name", "last_name", "job_title", "phone", "company", "linkedin_url", "city", "country",
    "source", "time_zone", "custom_fields",
})
# Fields a provider may fill (gateways.capabilities.EnrichedPerson.fields), besides the company pair.
ENRICHABLE_FIELDS = ("first_name", "last_name", "job_title", "phone", "linkedin_url", "city", "country")


def email_normalise(email: str) -> str:
    value = (email or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise DomainError(f"{email!r} is not a valid email address.", code="invalid_email", extra={"email": email})
    return value


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1]


def _check_fields(fields: dict) -> None:
    unknown = sorted(set(fields) - EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be set here: {', '.join(unknown)}.", code="unknown_fields",
                          extra={"fields": unknown})


def _save(contact: Contact, *, changed: Iterable[str] | None = None) -> Contact:
    """Saves a new contact whole; an existing one only in `changed` (and its field sources).

    The instance being edited may have been read long before: saving it whole would write back the
    score, tier, bounce count or last activity that the workers have moved on since.
    """
    contact.full_clean()
    if changed is None:
        contact.save()
    else:
        contact.save(update_fields=[*dict.fromkeys(changed), "field_sources", "updated_at"])
    return contact


@transaction.atomic
def contact_create(*, by=None, field_source: str = FieldSource.MANUAL, tags: Iterable[str] = (), **fields) -> Contact:
    """`field_source` records who set the given fields ("manual" for a person, "import" for a file)."""
    _check_fields(fields)
    email = email_normalise(fields.pop("email", ""))
    existing = Contact.objects.filter(email=email).values_list("pk", flat=True).first()
    if existing:
        raise ConflictError(f"A contact with the email {email} already exists.", code="duplicate_email",
                            extra={"contact_id": existing})
    domain = email_domain(email)
    sources = {name: field_source for name, value in fields.items() if value not in (None, "", {})}
    if fields.get("company") is None:
        fields["company"] = Company.objects.filter(domain=domain).first()
    contact = Contact(email=email, domain=domain, **fields)
    contact.field_sources = {**sources, "email": field_source}
    _save(contact)
    if tags:
        contacts_tag(contacts=[contact.pk], tag_names=tags)
    contact_event_emit("contact.created", contact)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, by=None, **fields) -> Contact:
    """Edits by a person: each changed field is marked "manual", so enrichment never overwrites it."""
    _check_fields(fields)
    if "email" in fields:
        fields["email"] = email_normalise(fields["email"])
        clash = Contact.objects.filter(email=fields["email"]).exclude(pk=contact.pk).values_list("pk", flat=True)
        if clash:
            raise ConflictError(f"Another contact already has the email {fields['email']}.",
                                code="duplicate_email", extra={"contact_id": clash[0]})
        contact.domain = email_domain(fields["email"])
    sources = dict(contact.field_sources)
    changed = ["domain"] if "email" in fields else []
    for name, value in fields.items():
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            sources[name] = FieldSource.MANUAL
            changed.append(name)
    contact.field_sources = sources
    _save(contact, changed=changed)
    contact_event_emit("contact.updated", contact, fields=sorted(fields))
    return contact


def _recorded(change: Change) -> None:
    transition = LifecycleTransition(contact=change.obj, from_status=change.source, to_status=change.target,
                                     by=change.by, reason=change.note,
                                     by_system=change.extra.get("by_system") or ("" if change.by else "system"))
    transition.full_clean(exclude=["contact", "by"])  # both are loaded rows, kept by foreign keys
    transition.save()


def _recorded_many(change: BulkChange) -> None:
    # `via` names the system that moved them (contacts_transition_by_system), as by_system does for one.
    LifecycleTransition.objects.bulk_create(
        LifecycleTransition(contact_id=pk, from_status=change.source, to_status=change.target, by=change.by,
                            by_system=change.via or ("" if change.by else "system"), reason=change.note)
        for pk in change.ids)


def _refused(source: str, target: str, allowed: list) -> DomainError:
    return DomainError(
        f"A contact cannot move from {LifecycleStatus(source).label} to {LifecycleStatus(target).label}.",
        code="transition_not_allowed", extra={"from": source, "to": target, "allowed": allowed},
    )


CONTACT_LIFECYCLE = Workflow(model=Contact, field="lifecycle_status", transitions=LIFECYCLE_TRANSITIONS,
                             terminal=LIFECYCLE_TERMINAL, noun="contact", audit=_recorded,
                             audit_model=LifecycleTransition, bulk_audit=_recorded_many, refused=_refused)


def contact_transition(*, contact: Contact, to: str, by=None, by_system: str = "", reason: str = "") -> Contact:
    """The one way a contact's lifecycle moves: checked against LIFECYCLE_TRANSITIONS and recorded."""
    return CONTACT_LIFECYCLE.transition(contact, to, by=by, note=reason, by_system=by_system)


def contact_transition_if_allowed(*, contact: Contact, to: str, **how) -> bool:
    """For automatic moves (an open, an enrichment) that simply do not apply to some contacts."""
    with transaction.atomic():
        current = (Contact.objects.select_for_update().filter(pk=contact.pk)
                   .values_list("lifecycle_status", flat=True).first())
        if current == to or not CONTACT_LIFECYCLE.allowed(current, to):
            return False
        contact_transition(contact=contact, to=to, **how)
    return True


@transaction.atomic
def contacts_transition_by_system(*, contact_ids, to: str, by_system: str, reason: str,
                                  sources: frozenset[str] | None = None) -> int:
    """An automatic move of many contacts at once (opens folded in the background): the same
    LifecycleTransition rows as contact_transition_if_allowed for each, in one UPDATE per source stage.
    Returns how many moved."""
    picked = Contact.objects.filter(pk__in=contact_ids).order_by("pk")
    return CONTACT_LIFECYCLE.bulk_transition(picked, to, sources=sources, note=reason, via=by_system)


@transaction.atomic
def contacts_transition(*, contacts, to: str, by=None, reason: str = "", audit_details: dict | None = None
                        ) -> dict[str, int]:
    """Moves every contact whose stage allows it, one audit INSERT and one UPDATE per source stage
    and chunk; returns {"moved", "skipped"} (skipped: already there or not allowed from their stage)."""
    if to not in LifecycleStatus.values:
        raise DomainError("Choose a lifecycle stage.", code="unknown_status")
    picked = contact_queryset(contacts)
    moved = CONTACT_LIFECYCLE.bulk_transition(picked, to, by=by, note=reason)
    if moved:
        audit_operation(model=Contact, action=f"Moved to {LifecycleStatus(to).label}", count=moved, by=by,
                        details={"reason": reason, **(audit_details or {})})
    return {"moved": moved, "skipped": picked.count() - moved}


def contact_queryset(contacts) -> QuerySet:
    """Contacts given as a queryset or a list of contacts or ids, as one queryset of ids to act on."""
    if isinstance(contacts, QuerySet):
        return Contact.objects.filter(pk__in=contacts.order_by().values("pk"))
    return Contact.objects.filter(pk__in=[getattr(item, "pk", item) for item in contacts])


def _tags_for(tag_names: Iterable[str], *, create: bool) -> list[Tag]:
    names = sorted({name.strip() for name in tag_names if name and name.strip()})
    if not names:
        raise DomainError("Name at least one tag.", code="no_tags")
    if not create:
        return list(Tag.objects.filter(name__in=names))
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    if not missing:
        return list(existing.values())
    for tag in missing:
        tag.full_clean(validate_unique=False)
    # Two transactions adding the same new tag at once (two journey workers on one "add tag" step):
    # the second waits for the first to commit and skips its row, instead of failing its whole batch.
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=names))


@transaction.atomic
def contacts_tag(*, contacts, tag_names: Iterable[str], audit_details: dict | None = None) -> int:
    """Tags every contact of a queryset or list in one INSERT … SELECT per tag; returns links added."""
    through = Contact.tags.through
    table = connection.ops.quote_name(through._meta.db_table)
    try:
        ids_sql, params = contact_queryset(contacts).order_by().values("id").query.sql_with_params()
    except EmptyResultSet:
        return 0
    added = 0
    # A quoted table name and Django's own compiled subquery; every value is a parameter. Links already there
    # are skipped by the unique key, one index probe each: a NOT EXISTS here was planned from the tag's
    # statistics, and for a tag gaining links since the last ANALYZE (a journey's step tagging a million in
    # batches) PostgreSQL scanned every link of the tag once per contact: 3.5 s a batch of 1,000 against 100,000
    # links, 5 ms with the conflict clause (bench/NOTES.md, Journeys). "WHERE true" keeps SQLite from reading
    # ON as a join's.
    sql = (
        f"INSERT INTO {table} (contact_id, tag_id) SELECT picked.id, %s FROM ({ids_sql}) picked "  # noqa: S608
        "WHERE true ON CONFLICT (contact_id, tag_id) DO NOTHING"
    )
    tagged = []
    with connection.cursor() as cursor:
        for tag in _tags_for(tag_names, create=True):
            tags_adding_send(tag, contact_queryset(contacts))
            cursor.execute(sql, [tag.pk, *params])
            added += cursor.rowcount
            tagged += [tag] if cursor.rowcount else []
    one = _one_contact(contacts) if added else None
    if one is not None:
        _audit_tags_of_one(one, tagged, "add", details=audit_details)
    elif added:
        audit_operation(model=Contact, action=f"Tagged {', '.join(sorted(tag_names))}", count=added,
                        details=audit_details)
    return added


@transaction.atomic
def contacts_untag(*, contacts, tag_names: Iterable[str], audit_details: dict | None = None) -> int:
    tags = _tags_for(tag_names, create=False)
    links = Contact.tags.through.objects.filter(contact_id__in=contact_queryset(contacts).order_by().values("pk"),
                                                tag__in=tags)
    one = _one_contact(contacts)
    untagged = [link.tag for link in links.select_related("tag")] if one is not None else []
    deleted, _ = links.delete()
    if deleted and one is not None:
        _audit_tags_of_one(one, untagged, "delete", details=audit_details)
    elif deleted:
        audit_operation(model=Contact, action=f"Untagged {', '.join(sorted(t.name for t in tags))}", count=deleted,
                        details=audit_details)
    return deleted


def _one_contact(contacts) -> int | None:
    """The id when a tagging names one contact (its page, the API, a form): the tags then go into that
    contact's own history, as a change of its tags; anything larger is one entry for the operation."""
    if isinstance(contacts, (list, tuple)):
        return getattr(contacts[0], "pk", contacts[0]) if len(contacts) == 1 else None
    two = list(contact_queryset(contacts).order_by().values_list("pk", flat=True)[:2])
    return two[0] if len(two) == 1 else None


def _audit_tags_of_one(contact_id: int, tags: list[Tag], operation: str, *, details: dict | None) -> None:
    if auditlog_disabled.get():  # inside audit_quietly(), as the receiver of tags.add() would be
        return
    contact = Contact.objects.get(pk=contact_id)
    # The same entry django-auditlog writes for tags.add() and tags.remove() (m2m_fields in settings).
    LogEntry.objects.log_m2m_changes(Tag.objects.filter(pk__in=[tag.pk for tag in tags]).order_by("name"), contact,
                                     operation, "tags", **({"additional_data": dict(details)} if details else {}))


def _company_for(*, contact: Contact, name: str, domain: str) -> Company | None:
    domain = (domain or "").strip().lower() or (contact.company.domain if contact.company else contact.domain)
    if not domain:
        return None
    company, created = Company.objects.get_or_create(domain=domain, defaults={"name": name or ""})
    if not created and name and not company.name:
        company.name = name
        company.full_clean()
        company.save(update_fields=["name", "updated_at"])
    return company


@transaction.atomic
def contact_merge_enrichment(*, contact: Contact, provider: str, fields: dict, raw: dict) -> list[str]:
    """Merges what a provider returned, by the documented policy, and returns the fields it changed.

    Policy: a field a person typed ("manual") is never overwritten; otherwise the newest provider
    answer wins; an empty answer never blanks a value. Each changed field's source becomes the
    provider, and the whole answer is kept as an EnrichmentRecord.
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    sources = dict(contact.field_sources)
    changed = []
    for name in ENRICHABLE_FIELDS:
        value = (fields.get(name) or "").strip() if isinstance(fields.get(name), str) else fields.get(name)
        if not value or sources.get(name) == FieldSource.MANUAL:
            continue
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)
        sources[name] = provider
    if (fields.get("company_name") or fields.get("company_domain")) and sources.get("company") != FieldSource.MANUAL:
        company = _company_for(contact=contact, name=fields.get("company_name", ""),
                               domain=fields.get("company_domain", ""))
        if company and contact.company_id != company.pk:
            contact.company = company
            changed.append("company")
        sources["company"] = provider
    contact.field_sources = sources
    _save(contact, changed=changed)
    record = EnrichmentRecord(contact=contact, provider=provider, fields=fields, raw=raw)
    record.full_clean()
    record.save()
    return changed
