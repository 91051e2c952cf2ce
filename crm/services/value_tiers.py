"""Lifetime value and value tiers (Bronze, Silver, Gold, Platinum), recomputed set-based.

Lifetime value is the sum of a contact's conversion values: payments, with refunds recorded as negative
conversions. One UPDATE ... FROM an aggregate writes it for the contacts asked (or all), touching only rows
whose value changed; a second statement sets the tier from it with the thresholds of the moment.
"""

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, Value, When

from crm import conf
from crm.choices import EventKind, ValueTier
from crm.models import Contact, EngagementEvent

# Where Silver, Gold and Platinum start among paying contacts when no thresholds are configured.
TIER_QUANTILES = (0.5, 0.8, 0.95)


def _thresholds() -> tuple[Decimal, Decimal, Decimal] | None:
    configured = conf.value_tier_thresholds()
    if configured:
        return configured
    paying = Contact.objects.filter(lifetime_value__gt=0).order_by("lifetime_value")
    count = paying.count()
    if not count:
        return None
    return tuple(
        paying.values_list("lifetime_value", flat=True)[min(int(q * count), count - 1)] for q in TIER_QUANTILES
    )


@transaction.atomic
def value_tiers_recompute(*, contact_ids=None) -> int:
    """Recomputes lifetime values and tiers of the given contacts (all when None); returns rows changed."""
    ids = None if contact_ids is None else sorted({int(pk) for pk in contact_ids})
    if ids == []:
        return 0
    contacts, events = Contact._meta.db_table, EngagementEvent._meta.db_table
    scope, params = "", [EventKind.CONVERTED]
    if ids is not None:
        scope = f"WHERE c.id IN ({', '.join(['%s'] * len(ids))})"
        params += ids
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {contacts} SET lifetime_value = totals.total
                FROM (SELECT c.id AS contact_id, COALESCE(SUM(e.value), 0) AS total
                      FROM {contacts} c LEFT JOIN {events} e ON e.contact_id = c.id AND e.kind = %s
                      {scope} GROUP BY c.id) AS totals
                WHERE {contacts}.id = totals.contact_id AND {contacts}.lifetime_value <> totals.total""",
            params,
        )
        changed = cursor.rowcount
    limits = _thresholds()
    if limits is None:
        tier = Value(ValueTier.NONE)
    else:
        silver, gold, platinum = limits
        tier = Case(
            When(lifetime_value__gte=platinum, then=Value(ValueTier.PLATINUM)),
            When(lifetime_value__gte=gold, then=Value(ValueTier.GOLD)),
            When(lifetime_value__gte=silver, then=Value(ValueTier.SILVER)),
            When(lifetime_value__gt=0, then=Value(ValueTier.BRONZE)),
            default=Value(ValueTier.NONE),
        )
    rows = Contact.objects.all() if ids is None else Contact.objects.filter(pk__in=ids)
    retiered = rows.exclude(value_tier=tier).update(value_tier=tier)
    return max(changed, retiered)
