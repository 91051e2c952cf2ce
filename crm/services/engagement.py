"""Engagement events and what they do to a contact: engagement, conversion, unsubscribes,
bounces, complaints, and the global suppression list."""

import re
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from aicmo_site.audit import audit_operation, audit_quietly
from aicmo_site.errors import DomainError
from crm import conf
from crm.choices import (
    ENGAGING_EVENTS,
    LIFECYCLE_BEFORE_ENGAGED,
    NOT_ACTIVITY_EVENTS,
    ConsentStatus,
    EmailStatus,
    EventKind,
    LifecycleStatus,
    SuppressionKind,
    SuppressionReason,
)
from crm.models import Contact, EngagementEvent, Suppression
from crm.services.contacts import contact_queryset, contact_transition_if_allowed, contacts_transition_by_system
from crm.webhook_events import contact_event_emit, suppression_emit

# Sent after the event's transaction commits, with sender=EngagementEvent, contact_id=..., kind=...: apps
# above crm (journeys awaiting an event) react without crm knowing them.
event_recorded = Signal()
# The same after a batch of events (contacts_record_engagement), with contact_ids=[...]: one signal, so a
# receiver can look the whole batch up at once.
events_recorded = Signal()
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _event_create(*, contact: Contact, kind: str, occurred_at=None, value=None, campaign_id=None, channel: str = "",
                  source_kind: str = "", source_id: str = "", detail: dict | None = None) -> EngagementEvent:
    if kind not in EventKind.values:
        raise DomainError(f"{kind!r} is not an event kind.", code="unknown_event_kind",
                          extra={"allowed": list(EventKind.values)})
    event = EngagementEvent(
        contact=contact, kind=kind, occurred_at=occurred_at or timezone.now(),
        value=Decimal(str(value)) if value is not None else None, campaign_id=campaign_id, channel=channel,
        source_kind=source_kind, source_id=str(source_id or ""), detail=detail or {},
    )
    # The contact is a loaded row and the foreign key holds in the database: validating it again would cost
    # a query on every open and click.
    event.full_clean(exclude=["contact"])
    event.save()
    if kind not in NOT_ACTIVITY_EVENTS:
        _last_activity_move({contact.pk: event.occurred_at})
        if contact.last_activity_at is None or contact.last_activity_at < event.occurred_at:
            contact.last_activity_at = event.occurred_at
    return event


def _last_activity_move(latest: dict) -> None:
    """Moves each contact's last activity up to its time here (contact id: time), in one UPDATE per 1,000
    contacts; a later activity already recorded stays (a reply or a payment may be recorded late). Django's
    bulk_update would write a CASE with a branch per contact, slow at a fold's batch (see publishing's
    _deliveries_count). Callers updating many contacts lock them in id order first."""
    postgresql = connection.vendor == "postgresql"
    row = "(%s::bigint, %s::timestamptz)" if postgresql else "(%s, %s)"
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Contact._meta.db_table)
    ordered = sorted(latest.items())
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start:start + 1000]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET last_activity_at = v.at"  # noqa: S608
                f" FROM (SELECT column1 AS id, column2 AS at FROM (VALUES {', '.join([row] * len(chunk))}) AS batch)"
                f" AS v WHERE {table}.id = v.id"
                f" AND ({table}.last_activity_at IS NULL OR {table}.last_activity_at < v.at)",
                [value for pk, at in chunk for value in (pk, adapt(at))])


@transaction.atomic
def contact_record_event(*, contact: Contact, kind: str, occurred_at=None, value=None, campaign_id=None,
                         channel: str = "", source_kind: str = "", source_id: str = "",
                         detail: dict | None = None) -> EngagementEvent:
    """Appends an event and applies what it means: opens, clicks and replies engage; a conversion
    converts; unsubscribes, complaints and hard bounces suppress the address."""
    event = _event_create(contact=contact, kind=kind, occurred_at=occurred_at, value=value, campaign_id=campaign_id,
                          channel=channel, source_kind=source_kind, source_id=source_id, detail=detail)
    transaction.on_commit(lambda: event_recorded.send(sender=EngagementEvent, contact_id=contact.pk, kind=kind))
    cause = f"{channel or 'event'}:{kind}"
    if kind in ENGAGING_EVENTS and contact.lifecycle_status in LIFECYCLE_BEFORE_ENGAGED:
        contact_transition_if_allowed(contact=contact, to=LifecycleStatus.ENGAGED, by_system=cause,
                                      reason=f"{EventKind(kind).label} at {event.occurred_at:%Y-%m-%d %H:%M}")
    elif kind == EventKind.CONVERTED:
        contact_transition_if_allowed(contact=contact, to=LifecycleStatus.CONVERTED, by_system=cause,
                                      reason=f"Converted (value {event.value})" if event.value else "Converted")
    elif kind == EventKind.UNSUBSCRIBED:
        _unsubscribe(contact=contact, source=cause, reason=(detail or {}).get("reason", ""))
    elif kind == EventKind.COMPLAINED:
        _complain(contact=contact, source=cause)
    elif kind == EventKind.BOUNCED:
        _bounce(contact=contact, hard=(detail or {}).get("bounce_type", "hard") != "soft", source=cause)
    return event


@transaction.atomic
def contacts_record_engagement(*, events: list[EngagementEvent]) -> list[EngagementEvent]:
    """Many opens, clicks or replies at once (tracking hits folded in the background), meaning the same
    as contact_record_event for each in the given order, in a few statements: one INSERT for all the
    events and one move per cause and minute for the contacts not engaged yet, each by its first event here."""
    if not events:
        return []
    for event in events:
        if event.kind not in ENGAGING_EVENTS:
            raise DomainError(f"{event.kind!r} is not an engagement event.", code="unknown_event_kind",
                              extra={"allowed": sorted(ENGAGING_EVENTS)})
    created = EngagementEvent.objects.bulk_create(events)
    firsts: dict[int, EngagementEvent] = {}
    latest: dict[int, datetime] = {}
    for event in events:
        firsts.setdefault(event.contact_id, event)
        latest[event.contact_id] = max(latest.get(event.contact_id, event.occurred_at), event.occurred_at)
    # Locked in id order in one statement, so two folds engaging the same contacts cannot deadlock (their last
    # activity is written to each of them next).
    locked = Contact.objects.filter(pk__in=firsts).order_by("pk").select_for_update().values_list(
        "pk", "lifecycle_status")
    waiting = [pk for pk, lifecycle in locked if lifecycle in LIFECYCLE_BEFORE_ENGAGED]
    _last_activity_move(latest)
    moves: dict[tuple[str, str], list[int]] = {}
    for contact_id in waiting:
        first = firsts[contact_id]
        cause = f"{first.channel or 'event'}:{first.kind}"
        reason = f"{EventKind(first.kind).label} at {first.occurred_at:%Y-%m-%d %H:%M}"
        moves.setdefault((cause, reason), []).append(contact_id)
    for (cause, reason), contact_ids in sorted(moves.items()):
        contacts_transition_by_system(contact_ids=contact_ids, to=LifecycleStatus.ENGAGED, by_system=cause,
                                      reason=reason, sources=LIFECYCLE_BEFORE_ENGAGED)
    contact_ids = sorted(firsts)
    transaction.on_commit(lambda: events_recorded.send(sender=EngagementEvent, contact_ids=contact_ids))
    return created


def _unsubscribe(*, contact: Contact, source: str, reason: str,
                 suppression_reason: str = SuppressionReason.UNSUBSCRIBED) -> None:
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(consent_status=ConsentStatus.UNSUBSCRIBED, consent_changed_at=now,
                                                 consent_source=source[:120], updated_at=now)
    contact.consent_status, contact.consent_changed_at, contact.consent_source = (
        ConsentStatus.UNSUBSCRIBED, now, source[:120])
    # The contact's own event and lifecycle move record why; the suppression is their consequence.
    with audit_quietly():
        suppression_add(value=contact.email, reason=suppression_reason, source=source)
    contact_transition_if_allowed(contact=contact, to=LifecycleStatus.UNSUBSCRIBED, by_system=source,
                                  reason=reason or "Unsubscribed")
    contact_event_emit("contact.unsubscribed", contact, source=source, reason=reason)


def _complain(*, contact: Contact, source: str) -> None:
    # The first reason recorded for an address stays, so an earlier unsubscribe keeps its reason.
    _unsubscribe(contact=contact, source=source, reason="Marked the message as spam",
                 suppression_reason=SuppressionReason.COMPLAINED)


def _bounce(*, contact: Contact, hard: bool, source: str) -> None:
    if not hard:
        Contact.objects.filter(pk=contact.pk).update(soft_bounce_count=F("soft_bounce_count") + 1)
        contact.soft_bounce_count = Contact.objects.values_list("soft_bounce_count", flat=True).get(pk=contact.pk)
        if contact.soft_bounce_count < conf.soft_bounce_limit():
            return
    Contact.objects.filter(pk=contact.pk).update(email_status=EmailStatus.INVALID, updated_at=timezone.now())
    contact.email_status = EmailStatus.INVALID
    with audit_quietly():
        suppression_add(value=contact.email, reason=SuppressionReason.BOUNCED, source=source)
    why = "Hard bounce" if hard else f"{contact.soft_bounce_count} soft bounces"
    contact_transition_if_allowed(contact=contact, to=LifecycleStatus.BOUNCED, by_system=source, reason=why)


@transaction.atomic
def contact_unsubscribe(*, contact: Contact, source: str, reason: str = "") -> Contact:
    """Idempotent: a second click on an unsubscribe link records nothing more."""
    left = contact.consent_status == ConsentStatus.UNSUBSCRIBED
    if left and contact.lifecycle_status == LifecycleStatus.UNSUBSCRIBED:
        return contact
    _event_create(contact=contact, kind=EventKind.UNSUBSCRIBED, detail={"source": source, "reason": reason})
    _unsubscribe(contact=contact, source=source, reason=reason)
    return contact


@transaction.atomic
def contact_mark_bounced(*, contact: Contact, hard: bool, detail: str = "") -> Contact:
    """Hard bounces suppress at once; soft ones are counted and suppress at CRM_SOFT_BOUNCE_LIMIT."""
    _event_create(contact=contact, kind=EventKind.BOUNCED, channel="email",
                  detail={"bounce_type": "hard" if hard else "soft", "diagnostic": detail})
    _bounce(contact=contact, hard=hard, source="email:bounce")
    return contact


@transaction.atomic
def contact_mark_complained(*, contact: Contact, detail: str = "") -> Contact:
    _event_create(contact=contact, kind=EventKind.COMPLAINED, channel="email", detail={"diagnostic": detail})
    _complain(contact=contact, source="email:complaint")
    return contact


def suppression_parse(value: str) -> tuple[str, str]:
    """"ann@example.com" is an address, "example.com" or "@example.com" a whole domain."""
    cleaned = (value or "").strip().lower()
    if "@" in cleaned.lstrip("@"):
        try:
            validate_email(cleaned)
        except ValidationError:
            raise DomainError(f"{value!r} is not a valid email address.", code="invalid_suppression")
        return SuppressionKind.EMAIL, cleaned
    cleaned = cleaned.lstrip("@")
    if not _DOMAIN.match(cleaned):
        raise DomainError(f"{value!r} is neither an email address nor a domain.", code="invalid_suppression")
    return SuppressionKind.DOMAIN, cleaned


@transaction.atomic
def suppression_add(*, value: str, reason: str, source: str = "") -> Suppression:
    """Idempotent: the first reason recorded for an address stays."""
    if reason not in SuppressionReason.values:
        raise DomainError(f"{reason!r} is not a suppression reason.", code="invalid_reason",
                          extra={"allowed": list(SuppressionReason.values)})
    kind, cleaned = suppression_parse(value)
    existing = Suppression.objects.filter(kind=kind, value=cleaned).first()
    if existing:
        return existing
    suppression = Suppression(kind=kind, value=cleaned, reason=reason, source=source[:120])
    suppression.full_clean(validate_unique=False)
    suppression.save()
    suppression_emit(suppression)
    return suppression


@transaction.atomic
def suppression_remove(*, suppression: Suppression | None = None, value: str = "") -> None:
    if suppression is None:
        kind, cleaned = suppression_parse(value)
        suppression = Suppression.objects.filter(kind=kind, value=cleaned).first()
        if suppression is None:
            raise DomainError(f"{value} is not on the suppression list.", code="not_suppressed")
    suppression.delete()


def contacts_unsubscribe(*, contacts, source: str, reason: str = "") -> int:
    """Unsubscribes each chosen contact still subscribed, as its own link would (event, suppression,
    lifecycle), each in its own transaction; returns how many."""
    done = 0
    picked = contact_queryset(contacts).exclude(consent_status=ConsentStatus.UNSUBSCRIBED).order_by("pk")
    try:
        with audit_quietly():
            for contact in picked.iterator(chunk_size=500):
                contact_unsubscribe(contact=contact, source=source, reason=reason)
                done += 1
    finally:
        # Each unsubscribe commits on its own: the entry counts those done even when one stops the rest.
        if done:
            audit_operation(model=Contact, action="Unsubscribed", count=done, details={"reason": reason})
    return done
