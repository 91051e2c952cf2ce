"""Every non-trivial read of the CRM, tuned once and shared by the API, the admin and the pages."""

import json
from collections.abc import Callable, Hashable
from datetime import timedelta

from django.db import connections
from django.db.models import Count, Exists, F, Func, JSONField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone

from crm import page_anchors
from crm.choices import (
    RUN_TERMINAL,
    ConsentStatus,
    EmailStatus,
    LifecycleStatus,
    RunStatus,
    SmsConsentStatus,
    SuppressionKind,
)
from crm.filters import CONTACT_SORTS, ContactFilterSet
from crm.form_models import FormSubmission, SubscriptionForm
from crm.models import (
    Contact,
    ContactList,
    ContactListMember,
    EngagementEvent,
    EnrichmentRecord,
    EnrichmentRun,
    ImportRun,
    LifecycleTransition,
    Segment,
    SmsConsent,
    Suppression,
)
from crm.phones import phone_e164, phone_e164_expression
from crm.segments import rules_q


def contacts_visible() -> QuerySet[Contact]:
    """Contacts not erased, with what a list shows (company, tags) fetched in a fixed number of queries."""
    return Contact.objects.filter(erased_at__isnull=True).select_related("company").prefetch_related("tags")


class _NamesField(JSONField):
    """A list of names read from a subquery: a PostgreSQL array (parsed by psycopg in C, where JSON took
    a json.loads per contact and list), JSON text on SQLite; no row at all is NULL, read as []."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return []
        return value if isinstance(value, list) else super().from_db_value(value, expression, connection)


class _NamesList(Func):
    """A subquery's values as one list: array_agg on PostgreSQL, json_group_array on SQLite. A Func, not an
    Aggregate, so the subquery has no GROUP BY: an aggregate over the contact's rows, one row even when there
    are none, which PostgreSQL plans and runs in about half the time of the grouped one."""

    function = "JSON_GROUP_ARRAY"
    output_field = _NamesField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="ARRAY_AGG", **extra_context)


def _values_of_contact(through, field: str) -> Subquery:
    listed = through.objects.filter(contact=OuterRef("pk")).annotate(listed=_NamesList(field))
    return Subquery(listed.values("listed"))


# Built once: a query copies the expressions it is given, and building them anew took a tenth of a members
# page's Python time.
_LISTED = {
    "company_name": Coalesce(F("company__name"), Value("")),
    "tag_names": _values_of_contact(Contact.tags.through, "tag__name"),
    "topic_slugs": _values_of_contact(Contact.topics.through, "topic__slug"),
}


def imports_with_errors(*, days: int = 30, limit: int = 5) -> list[ImportRun]:
    """Recent imports that failed or finished with rows in error, the newest first."""
    since = timezone.now() - timedelta(days=days)
    return list(ImportRun.objects.filter(Q(status=RunStatus.FAILED) | Q(status=RunStatus.COMPLETED, failed_count__gt=0),
                                         created_at__gte=since).order_by("-created_at", "-pk")[:limit])


def crm_getting_started() -> dict:
    """The getting-started checklist's CRM steps: are there contacts yet, and a segment?"""
    return {"contacts": contacts_visible().exists(), "segments": Segment.objects.exists()}


def contacts_listed(contacts: QuerySet[Contact] | None = None) -> QuerySet[Contact]:
    """Contacts as list pages and the API show them, one query per page: `company_name`, `tag_names` and
    `topic_slugs` computed in the same row. A prefetch of tags and topics cost two more queries and, in
    Python, a related manager and a queryset per contact: most of a members page's time, where the same
    page written by hand in SQL is a single statement (bench crm_segments)."""
    contacts = Contact.objects.filter(erased_at__isnull=True) if contacts is None else contacts
    return contacts.annotate(**_LISTED)


def contacts_exported(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Contacts as a CSV export writes them, by id: `company_name`, `company_domain` and `tag_names` in each
    row, so every chunk an export reads is one fetch (a prefetch of tags was one more query per chunk)."""
    return (contacts.filter(erased_at__isnull=True).select_related(None).prefetch_related(None)
            .annotate(company_name=_LISTED["company_name"], company_domain=Coalesce(F("company__domain"), Value("")),
                      tag_names=_LISTED["tag_names"])
            .order_by("pk"))


_INDEXED_ORDER = ("-created_at", "created_at")  # the newest-first pages, the default, walk the created_at index


def contacts_page(page: QuerySet[Contact], *, seek: bool = True) -> QuerySet[Contact]:
    """The rows of a sliced page of contacts_listed(). Past the first page PostgreSQL computed the listed extras
    for every row the OFFSET skips as well, so a later page picks its ids first, ordered and offset, and lists only
    those, in the same statement. So does a first page in an order no index serves (a company's name): it reads
    every matching contact, and joined each to its company before sorting; picking the ids first sorts narrow rows,
    in parallel (figures in bench/NOTES.md). A page past DEEP_FROM rows is read from the list's remembered
    positions (crm.page_anchors) unless `seek` is off."""
    ordering = page.query.order_by or Contact._meta.ordering
    if seek and page.query.low_mark >= page_anchors.DEEP_FROM:
        page = _sought(page)
    if not page.query.low_mark and ordering[0] in _INDEXED_ORDER:
        return page
    chosen = Contact.objects.filter(pk__in=page.values("pk"))
    return contacts_listed(chosen).order_by(*ordering)


def _sought(page: QuerySet[Contact]) -> QuerySet[Contact]:
    """A deep page read from the list's nearest remembered position (crm.page_anchors), when it has them."""
    whole = page.all()
    whole.query.clear_limits()
    anchors = page_anchors.list_anchors(whole)
    if anchors is None:
        return page
    return page_anchors.seek_page(whole, anchors, page.query.low_mark, page.query.high_mark - page.query.low_mark)


def contacts_filtered(filters: dict[str, list[str]]) -> QuerySet[Contact]:
    """The contact list as the API and the back office list it for these filters (a query string's values)."""
    data = QueryDict(mutable=True)
    for name, values in filters.items():
        data.setlist(name, values)
    filterset = ContactFilterSet(data=data, queryset=contacts_listed())
    return filterset.qs if filterset.is_valid() else Contact.objects.none()


def contact_lists_unfiltered() -> list[QuerySet[Contact]]:
    """The contact list as the pages show it without a filter, in each sort the back office offers: the lists
    a scheduled task keeps numbered (crm.tasks.page_anchors_keep_task)."""
    return [contacts_filtered({"ordering": [ordering]}) for ordering, _ in CONTACT_SORTS]


def contact_list(*, filters: dict | None = None) -> QuerySet[Contact]:
    filterset = ContactFilterSet(data=filters or {}, queryset=contacts_visible())
    return filterset.qs if filterset.is_valid() else contacts_visible().none()


def segment_queryset(segment: Segment) -> QuerySet[Contact]:
    return contacts_visible().filter(rules_q(segment.rules))


def segment_members(segment: Segment) -> QuerySet[Contact]:
    """A segment's members newest first, as contacts_listed() shows them."""
    members = Contact.objects.filter(erased_at__isnull=True).filter(rules_q(segment.rules))
    return contacts_listed(members).order_by("-created_at", "-id")


class _Prepared:
    """A model query compiled once: its SQL and parameters, and how its rows become instances (as Django's
    ModelIterable does). Building and compiling a segment's page (its rules, EXISTS subqueries, listed extras)
    took as long in Python as PostgreSQL took to run it at a million contacts (bench/NOTES.md)."""

    def __init__(self, queryset: QuerySet):
        compiler = queryset.query.get_compiler(queryset.db)
        self.sql, self.params = compiler.as_sql()
        self.model, self.db = queryset.model, queryset.db
        info = compiler.klass_info
        if info.get("related_klass_infos") or queryset._prefetch_related_lookups:
            raise ValueError("a prepared query reads one model's rows: no select_related or prefetch_related")
        fields = info["select_fields"]
        self.columns = slice(fields[0], fields[-1] + 1)
        self.attnames = [column.target.attname for column, _, _ in compiler.select[self.columns]]
        self.annotations = list(compiler.annotation_col_map.items())
        self.converters = [(position, functions, expression) for position, (functions, expression)
                           in compiler.get_converters([column for column, _, _ in compiler.select]).items()]

    def fetch(self) -> list:
        connection = connections[self.db]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            rows = cursor.fetchall()
        found = []
        for row in rows:
            if self.converters:
                row = list(row)
                for position, functions, expression in self.converters:
                    for convert in functions:
                        row[position] = convert(row[position], expression, connection)
            instance = self.model.from_db(self.db, self.attnames, row[self.columns])
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found


class _PreparedCount:
    """How many rows a sliced query gives, compiled once: SELECT count(*) FROM (the query) counted."""

    def __init__(self, queryset: QuerySet):
        sql, self.params = queryset.query.get_compiler(queryset.db).as_sql()
        self.sql, self.db = f"SELECT COUNT(*) FROM ({sql}) counted", queryset.db

    def fetch(self) -> int:
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return cursor.fetchone()[0]


_PREPARED: dict[Hashable, _Prepared | _PreparedCount] = {}
PREPARED_AT_MOST = 256  # a few KB each; the oldest goes first


def _prepared(key: Hashable, build: Callable[[], _Prepared | _PreparedCount]):
    """The compiled query for `key`, which must name everything the SQL depends on. Threads may compile the
    same one twice at worst; each dict operation is atomic."""
    prepared = _PREPARED.get(key)
    if prepared is None:
        prepared = build()
        while len(_PREPARED) >= PREPARED_AT_MOST:
            _PREPARED.pop(next(iter(_PREPARED)), None)
        _PREPARED[key] = prepared
    return prepared


def segment_members_page(segment: Segment, *, offset: int = 0, limit: int = 50) -> list[Contact]:
    """segment_members(segment)[offset:offset + limit] as contacts_page() lists it, from a statement compiled
    once per rules and page: the rules make the same SQL every time (their "last N days" is the database's
    clock), so the key is the rules themselves and a changed segment simply gets a new statement."""
    if limit <= 0:
        return []

    def build():
        # No seek: a remembered position compiled into a statement kept for good would go stale.
        return _Prepared(contacts_page(segment_members(segment)[offset:offset + limit], seek=False))

    return _prepared(_segment_key(segment, "members", offset, limit), build).fetch()


def segment_members_count(segment: Segment, *, at_most: int) -> int:
    """How many members the segment has, counting no further than `at_most`, from a statement compiled once."""

    def build():
        return _PreparedCount(segment_members(segment).order_by().values("pk")[:at_most])

    return _prepared(_segment_key(segment, "count", at_most), build).fetch()


def _segment_key(segment: Segment, *shape) -> tuple:
    """Everything a segment's SQL depends on: the rules, the database, and the active time zone (a rule on a
    calendar day compiles it into the SQL)."""
    db = Contact.objects.db
    return (db, connections[db].vendor, timezone.get_current_timezone_name(),
            json.dumps(segment.rules, sort_keys=True, separators=(",", ":")), *shape)


def segment_count(rules) -> int:
    return Contact.objects.filter(erased_at__isnull=True).filter(rules_q(rules)).count()


def audience_resolve(*, contact_ids=(), tag_ids=(), domains=(), segment_ids=(), list_ids=()) -> QuerySet[Contact]:
    """Everyone picked by any of the given ways, each person once (EXISTS, not joins)."""
    picked = Q(pk__in=list(contact_ids)) if contact_ids else Q(pk__in=[])
    if tag_ids:
        picked |= Q(Exists(Contact.tags.through.objects.filter(contact=OuterRef("pk"), tag_id__in=list(tag_ids))))
    if domains:
        picked |= Q(domain__in=[domain.strip().lower().lstrip("@") for domain in domains])
    if list_ids:
        picked |= Q(Exists(_on_lists(list_ids)))
    for segment in Segment.objects.filter(pk__in=list(segment_ids)):
        picked |= rules_q(segment.rules)
    return Contact.objects.filter(erased_at__isnull=True).filter(picked)


def _on_lists(list_ids) -> QuerySet[ContactListMember]:
    return ContactListMember.objects.filter(contact=OuterRef("pk"), contact_list_id__in=list(list_ids))


def audience_contacts(audience: dict) -> QuerySet[Contact]:
    """The people of a campaign's audience ({"contact_ids", "tag_ids", "domains", "segment_ids",
    "list_ids", "exclude_segment_ids", "exclude_list_ids"}): everyone picked, less the members of the
    excluded segments and lists."""
    picked = audience_resolve(contact_ids=audience.get("contact_ids", ()), tag_ids=audience.get("tag_ids", ()),
                              domains=audience.get("domains", ()), segment_ids=audience.get("segment_ids", ()),
                              list_ids=audience.get("list_ids", ()))
    for segment in Segment.objects.filter(pk__in=list(audience.get("exclude_segment_ids", ()))):
        picked = picked.exclude(rules_q(segment.rules))
    if audience.get("exclude_list_ids"):
        picked = picked.exclude(Exists(_on_lists(audience["exclude_list_ids"])))
    return picked


def audience_size(audience: dict) -> dict[str, int]:
    """How many people an audience picks, how many of them may be emailed and how many may not
    (unsubscribed, bounced, suppressed), in one query."""
    picked = audience_contacts(audience)
    emailable = contacts_emailable(Contact.objects.all()).filter(pk=OuterRef("pk"))
    size = picked.aggregate(picked=Count("pk"), emailable=Count("pk", filter=Q(Exists(emailable))))
    return {**size, "left_out": size["picked"] - size["emailable"]}


def segments_sized() -> list[Segment]:
    """Every segment with `size`, its live member count, all counted in one query."""
    segments = list(Segment.objects.order_by("name"))
    if not segments:
        return []
    counts = Contact.objects.filter(erased_at__isnull=True).aggregate(
        **{f"s{segment.pk}": Count("pk", filter=rules_q(segment.rules)) for segment in segments})
    for segment in segments:
        segment.size = counts[f"s{segment.pk}"]
    return segments


def contact_lists(*, search: str = "") -> QuerySet[ContactList]:
    """Lists with `size`, their member count, in the one query of the page; `search` by name or description."""
    lists = ContactList.objects.annotate(size=Count("memberships")).order_by("name")
    for word in search.split()[:5]:
        lists = lists.filter(Q(name__icontains=word) | Q(description__icontains=word))
    return lists


def contact_list_members(contact_list: ContactList, *, search: str = "") -> QuerySet[ContactListMember]:
    """Who is on a list, newest first, with the contact and who added them fetched in the same query."""
    members = contact_list.memberships.select_related("contact", "added_by").order_by("-added_at", "-pk")
    for word in search.split()[:5]:
        members = members.filter(Q(contact__email__icontains=word) | Q(contact__first_name__icontains=word)
                                 | Q(contact__last_name__icontains=word))
    return members


def contacts_emailable(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    """Only the people email may go to: not erased, not unsubscribed, bounced, complained or invalid,
    and not on the suppression list by address or by domain."""
    by_address = Suppression.objects.filter(kind=SuppressionKind.EMAIL, value=OuterRef("email"))
    by_domain = Suppression.objects.filter(kind=SuppressionKind.DOMAIN, value=OuterRef("domain"))
    return (
        queryset.filter(erased_at__isnull=True, consent_status=ConsentStatus.SUBSCRIBED)
        .exclude(lifecycle_status__in=[LifecycleStatus.UNSUBSCRIBED, LifecycleStatus.BOUNCED])
        .exclude(email_status=EmailStatus.INVALID)
        .exclude(Exists(by_address))
        .exclude(Exists(by_domain))
    )


def contact_is_emailable(contact: Contact) -> bool:
    return contacts_emailable(Contact.objects.filter(pk=contact.pk)).exists()


def contact_sms_consent(contact: Contact) -> SmsConsent | None:
    """The consent of the contact's current phone number, whoever gave it (a STOP may predate the contact)."""
    number = phone_e164(contact.phone)
    return SmsConsent.objects.filter(number=number).first() if number else None


def contacts_textable(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Those who may receive marketing texts: not erased, and the number their phone reads as has opted in.
    Each comes with `sms_number`, that number in E.164."""
    opted_in = SmsConsent.objects.filter(number=OuterRef("sms_number"), consent=SmsConsentStatus.OPTED_IN)
    return (contacts.filter(erased_at__isnull=True).annotate(sms_number=phone_e164_expression())
            .filter(Exists(opted_in)))


def contact_timeline(contact: Contact, *, limit: int = 200) -> list[dict]:
    """Events, lifecycle changes and enrichments, newest first, as one list of plain entries."""
    entries = [
        {"at": event.occurred_at, "type": "event", "kind": event.kind, "title": event.get_kind_display(),
         "detail": event.detail, "value": str(event.value) if event.value is not None else None,
         "campaign_id": event.campaign_id, "channel": event.channel, "id": event.pk}
        for event in EngagementEvent.objects.filter(contact=contact).order_by("-occurred_at", "-id")[:limit]
    ]
    entries += [
        {"at": move.created_at, "type": "lifecycle", "kind": move.to_status,
         "title": f"{move.get_from_status_display()} → {move.get_to_status_display()}",
         "detail": {"by": move.by.get_username() if move.by else move.by_system, "reason": move.reason},
         "id": move.pk}
        for move in LifecycleTransition.objects.filter(contact=contact).select_related("by")
        .order_by("-created_at", "-id")[:limit]
    ]
    entries += [
        {"at": record.created_at, "type": "enrichment", "kind": record.provider,
         "title": f"Enriched by {record.provider}", "detail": record.fields, "id": record.pk}
        for record in EnrichmentRecord.objects.filter(contact=contact).order_by("-created_at", "-id")[:limit]
    ]
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return entries[:limit]


def enrichment_runs_needing_providers(*, verification: bool) -> list[str]:
    """Open enrichment runs (gateways.readiness.register_use): every run verifies emails, and all
    but the verify-only ones enrich."""
    runs = EnrichmentRun.objects.exclude(status__in=RUN_TERMINAL).order_by("pk")
    if not verification:
        runs = runs.exclude(scope__verify_only=True)
    return [f"enrichment run {pk} is {status}" for pk, status in runs.values_list("pk", "status")[:5]]


def enrichment_runs_stuck(*, before) -> QuerySet[EnrichmentRun]:
    """Open runs that have not moved since `before`, each with `last_progress`."""
    return (EnrichmentRun.objects.exclude(status__in=RUN_TERMINAL)
            .annotate(last_progress=Coalesce("progressed_at", "started_at", "created_at"))
            .filter(last_progress__lt=before))


def imports_stuck(*, before) -> QuerySet[ImportRun]:
    """Open imports that have not moved since `before`, each with `last_progress`: a running one whose
    last chunk is that old, or a queued one no worker took (or whose columns no one mapped) in that time."""
    return (ImportRun.objects.exclude(status__in=RUN_TERMINAL)
            .annotate(last_progress=Coalesce("progressed_at", "started_at", "created_at"))
            .filter(last_progress__lt=before))


def subscription_forms(*, search: str = "") -> QuerySet[SubscriptionForm]:
    """Forms with how many people sent each and how many of them confirmed, in one query."""
    forms = SubscriptionForm.objects.annotate(
        submission_count=Count("submissions"),
        confirmed_count=Count("submissions", filter=Q(submissions__confirmed_at__isnull=False)),
    ).order_by("name", "id")
    if search:
        forms = forms.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return forms


def form_submissions(form: SubscriptionForm, *, confirmed: bool | None = None) -> QuerySet[FormSubmission]:
    submissions = FormSubmission.objects.filter(form=form).order_by("-submitted_at", "-id")
    if confirmed is not None:
        submissions = submissions.filter(confirmed_at__isnull=not confirmed)
    return submissions
