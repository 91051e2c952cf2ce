"""Statuses and kinds of the CRM, with the lifecycle's allowed transitions next to them."""

from django.db import models

# Import and enrichment runs share the background run's statuses.
from aicmo_site.models import RUN_TERMINAL as RUN_TERMINAL
from aicmo_site.models import RunStatus as RunStatus


class LifecycleStatus(models.TextChoices):
    NEW = "new", "New"
    ENRICHED = "enriched", "Enriched"
    VERIFIED = "verified", "Verified"
    ENGAGED = "engaged", "Engaged"
    CONVERTED = "converted", "Converted"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"


# The one table of lifecycle moves. UNSUBSCRIBED and BOUNCED are reachable from any state and
# are terminal: a person who left or whose address is dead comes back only by a new opt-in,
# which is a manual move back to NEW.
_ANY_TO_EXIT = {LifecycleStatus.UNSUBSCRIBED, LifecycleStatus.BOUNCED}
LIFECYCLE_TRANSITIONS: dict[str, set[str]] = {
    LifecycleStatus.NEW: {LifecycleStatus.ENRICHED, LifecycleStatus.VERIFIED, LifecycleStatus.ENGAGED,
                          LifecycleStatus.CONVERTED} | _ANY_TO_EXIT,
    LifecycleStatus.ENRICHED: {LifecycleStatus.VERIFIED, LifecycleStatus.ENGAGED, LifecycleStatus.CONVERTED}
    | _ANY_TO_EXIT,
    LifecycleStatus.VERIFIED: {LifecycleStatus.ENGAGED, LifecycleStatus.CONVERTED} | _ANY_TO_EXIT,
    LifecycleStatus.ENGAGED: {LifecycleStatus.CONVERTED} | _ANY_TO_EXIT,
    LifecycleStatus.CONVERTED: set(_ANY_TO_EXIT),
    LifecycleStatus.UNSUBSCRIBED: {LifecycleStatus.NEW, LifecycleStatus.BOUNCED},
    LifecycleStatus.BOUNCED: {LifecycleStatus.NEW, LifecycleStatus.UNSUBSCRIBED},
}
LIFECYCLE_TERMINAL = frozenset(_ANY_TO_EXIT)
# Statuses an engagement signal (open, click, reply) may lift to ENGAGED.
LIFECYCLE_BEFORE_ENGAGED = frozenset({LifecycleStatus.NEW, LifecycleStatus.ENRICHED, LifecycleStatus.VERIFIED})


class EmailStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    VALID = "valid", "Valid"
    RISKY = "risky", "Risky"
    INVALID = "invalid", "Invalid"


class ConsentStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    # Signed up through a form with double opt-in and not yet confirmed: never emailable
    # (crm.selectors.contacts_emailable lets SUBSCRIBED through only).
    PENDING = "pending", "Pending confirmation"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class EngagementTier(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INACTIVE = "inactive", "Inactive"


class ValueTier(models.TextChoices):
    """From lifetime value (payments minus refunds); a contact who never paid has no tier."""

    NONE = "", "No payments"
    BRONZE = "bronze", "Bronze"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    PLATINUM = "platinum", "Platinum"


class EventKind(models.TextChoices):
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    REPLIED = "replied", "Replied"
    BOUNCED = "bounced", "Bounced"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    COMPLAINED = "complained", "Complained"
    CONVERTED = "converted", "Converted"
    PAGE_VIEW = "page_view", "Page view"
    FORM_SUBMIT = "form_submit", "Form submit"
    SUBSCRIPTION_CONFIRMED = "form_confirmed", "Subscription confirmed"
    NOTE = "note", "Note"
    STARRED = "starred", "Starred a repository"
    FORKED = "forked", "Forked a repository"


ENGAGING_EVENTS = frozenset({EventKind.OPENED, EventKind.CLICKED, EventKind.REPLIED})
# What happened to an address rather than what the person did: these do not move a contact's last activity.
NOT_ACTIVITY_EVENTS = frozenset({EventKind.SENT, EventKind.DELIVERED, EventKind.BOUNCED})


class SmsConsentStatus(models.TextChoices):
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"


class SuppressionKind(models.TextChoices):
    EMAIL = "email", "Email address"
    DOMAIN = "domain", "Domain"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"
    MANUAL = "manual", "Added by hand"
    INVALID = "invalid", "Invalid address"
    ERASED = "erased", "Erased on the person's request"




class EnrichmentItemStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    ENRICHED = "enriched", "Enriched"
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ImportPolicy(models.TextChoices):
    UPDATE = "update", "Update existing contacts"
    SKIP_EXISTING = "skip_existing", "Skip existing contacts"


class ImportedRows(models.TextChoices):
    """Which contacts of an import enter the journey chosen for it."""

    CREATED = "created", "Contacts the import created"
    UPDATED = "updated", "Contacts the import updated"
    BOTH = "both", "Both"


class FieldSource:
    """Values of Contact.field_sources besides a provider's name."""

    MANUAL = "manual"
    IMPORT = "import"
