"""A person's rights over their data: a full copy (right of access) and erasure.

Erasure, as designed here:
- The contact row stays, anonymous, so counts stay true: its email becomes an irreversible
  placeholder (erased-<random>@erased.invalid), every personal field is blanked, custom fields
  and provenance emptied, the company link dropped, consent withdrawn, `erased_at` set.
- Engagement events stay (campaign counts per kind do not change) but lose their `detail`, which
  may hold reply text, links or addresses; lifecycle changes lose their free-text reason;
  enrichment records (providers' raw answers) are deleted.
- The address is kept only as a SHA-256 hash on the suppression list, with the suppressions that
  named it in clear removed: an import that meets the address again refuses that row, so the
  person is neither stored nor mailed again, and nobody can read the address back.
- Who erased and when is recorded in the admin log of the contact (and `erased_at`).
- `contact_erased` is sent inside the transaction with the original address, so apps that keep
  copies (publishing's deliveries, for one) scrub theirs atomically with this one; crm cannot
  import them.
"""

import uuid

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from aicmo_site.audit import audit_erase, audit_quietly
from aicmo_site.errors import ConflictError, DomainError
from crm.choices import ConsentStatus, SuppressionKind, SuppressionReason
from crm.form_models import FormSubmission
from crm.imports.validating import erasure_hash
from crm.models import (
    Contact,
    ContactListMember,
    EngagementEvent,
    EnrichmentRecord,
    GitHubUser,
    LifecycleTransition,
    PushSubscription,
    SmsConsent,
    Suppression,
)
from crm.phones import phone_e164

# Sent with sender=Contact, contact_id=..., email=<the address before erasure>.
contact_erased = Signal()
ERASED_DOMAIN = "erased.invalid"
_BLANKED = ("first_name", "last_name", "job_title", "phone", "linkedin_url", "city", "country", "source",
            "consent_source")


def _iso(value):
    return value.isoformat() if value else None


def contact_access_export(contact: Contact) -> dict:
    """Everything AICMO holds about a person, as JSON-ready data."""
    company = contact.company
    events = EngagementEvent.objects.filter(contact=contact).order_by("occurred_at", "id")
    moves = LifecycleTransition.objects.filter(contact=contact).select_related("by").order_by("created_at", "id")
    records = EnrichmentRecord.objects.filter(contact=contact).order_by("created_at", "id")
    suppressions = Suppression.objects.filter(kind=SuppressionKind.EMAIL, value=contact.email) | \
        Suppression.objects.filter(kind=SuppressionKind.DOMAIN, value=contact.domain)
    return {
        "exported_at": timezone.now().isoformat(),
        "contact": {
            "id": contact.pk, "email": contact.email, "first_name": contact.first_name,
            "last_name": contact.last_name, "job_title": contact.job_title, "phone": contact.phone,
            "domain": contact.domain, "linkedin_url": contact.linkedin_url, "city": contact.city,
            "country": contact.country, "source": contact.source, "lifecycle_status": contact.lifecycle_status,
            "email_status": contact.email_status, "consent_status": contact.consent_status,
            "consent_changed_at": _iso(contact.consent_changed_at), "consent_source": contact.consent_source,
            "custom_fields": contact.custom_fields, "field_sources": contact.field_sources,
            "engagement_score": contact.engagement_score, "engagement_tier": contact.engagement_tier,
            "soft_bounce_count": contact.soft_bounce_count, "erased_at": _iso(contact.erased_at),
            "created_at": _iso(contact.created_at), "updated_at": _iso(contact.updated_at),
        },
        "company": {"name": company.name, "domain": company.domain, "industry": company.industry,
                    "size": company.size, "website": company.website} if company else None,
        "tags": sorted(contact.tags.values_list("name", flat=True)),
        "topics": sorted(contact.topics.values_list("name", flat=True)),
        "events": [
            {"kind": e.kind, "occurred_at": _iso(e.occurred_at), "value": str(e.value) if e.value is not None else None,
             "campaign_id": e.campaign_id, "channel": e.channel, "source_kind": e.source_kind,
             "source_id": e.source_id, "detail": e.detail}
            for e in events
        ],
        "lifecycle_changes": [
            {"from": m.from_status, "to": m.to_status, "by": m.by.get_username() if m.by else m.by_system,
             "reason": m.reason, "at": _iso(m.created_at)}
            for m in moves
        ],
        "enrichment_records": [
            {"provider": r.provider, "fields": r.fields, "raw": r.raw, "at": _iso(r.created_at)} for r in records
        ],
        "sms_consents": [
            {"number": c.number, "consent": c.consent, "source": c.source, "at": _iso(c.changed_at)}
            for c in SmsConsent.objects.filter(contact=contact).order_by("changed_at")
        ],
        "suppressions": [
            {"value": s.value, "kind": s.kind, "reason": s.reason, "source": s.source, "at": _iso(s.created_at)}
            for s in suppressions.order_by("created_at")
        ],
    }


@transaction.atomic
def contact_erase(*, contact: Contact, by, confirm: str) -> Contact:
    """Erases a person's data at their request; `confirm` must repeat their email address."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.erased_at:
        raise ConflictError("This contact was already erased.", code="already_erased",
                            extra={"erased_at": _iso(contact.erased_at)})
    if (confirm or "").strip().lower() != contact.email:
        raise DomainError("Type the contact's email address to confirm the erasure.", code="confirmation_required",
                          extra={"fields": {"confirm": ["Must repeat the contact's email address."]}})
    return _erase(contact, by=by, why="at the person's request")


@transaction.atomic
def contact_erase_inactive(*, contact_id: int) -> bool:
    """Erases a contact under the inactive-contacts retention policy, the same way as on request; False
    when it was erased already."""
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if contact.erased_at:
        return False
    _erase(contact, by=None, why="by the data-retention policy for inactive contacts")
    return True


def _erase(contact: Contact, *, by, why: str) -> Contact:
    email, now = contact.email, timezone.now()
    # Texting needs an opt-in, so dropping the number's consent (either way) can never lead to a text.
    number = phone_e164(contact.phone)
    SmsConsent.objects.filter(Q(contact=contact) | Q(number=number) if number else Q(contact=contact)).delete()
    PushSubscription.objects.filter(contact=contact).delete()
    # The address must not reach the log; the erasure's own entry records what happened.
    with audit_quietly():
        Suppression.objects.filter(kind=SuppressionKind.EMAIL, value=email).delete()
        hashed, _ = Suppression.objects.get_or_create(
            kind=SuppressionKind.EMAIL, value=erasure_hash(email),
            defaults={"reason": SuppressionReason.ERASED,
                      "source": "erased on the person's request" if by is not None else f"erased {why}"[:120]},
        )
    for name in _BLANKED:
        setattr(contact, name, "")
    contact.email = f"erased-{uuid.uuid4().hex}@{ERASED_DOMAIN}"
    contact.domain = ERASED_DOMAIN
    contact.company = None
    contact.custom_fields, contact.field_sources = {}, {}
    contact.consent_status, contact.consent_changed_at = ConsentStatus.UNSUBSCRIBED, now
    contact.erased_at = now
    contact.full_clean()
    with audit_quietly():
        contact.save()
    audit_erase(contact, by=by, note=f"Erased {why}")
    # Events are append-only; erasure is the one exception that changes them, and it keeps what counts rely on
    # (data retention deletes old ones, crm.retention).
    EngagementEvent.objects.filter(contact=contact).update(detail={})
    LifecycleTransition.objects.filter(contact=contact).update(reason="")
    EnrichmentRecord.objects.filter(contact=contact).delete()
    # Interests say something about the person; the anonymous row keeps no preference of theirs.
    contact.topics.clear()
    # Someone who asked to be forgotten is on nobody's list any more (lists are picked as audiences).
    ContactListMember.objects.filter(contact=contact).delete()
    # Form sendings keep that consent was given and when; who gave it (address, answers, device) goes.
    FormSubmission.objects.filter(contact=contact).update(
        email=contact.email, answers={}, ip=None, user_agent="", confirmed_ip=None, confirmed_user_agent="")
    # The GitHub login stays known (so the backfill does not look it up and match it again); the address goes.
    GitHubUser.objects.filter(Q(contact=contact) | Q(email__iexact=email)).update(email="", contact=None)
    if by is not None:
        LogEntry.objects.log_actions(
            user_id=by.pk, queryset=[contact], action_flag=CHANGE, single_object=True,
            change_message=f"Erased {why} by {by.get_username()}.",
        )
    contact_erased.send(sender=Contact, contact_id=contact.pk, email=email)
    return contact
