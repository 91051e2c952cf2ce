"""Engagement scores written in bulk by analytics (crm never imports analytics: it receives rows)."""

from django.db import connection, transaction
from django.db.models import QuerySet

from aicmo_site.errors import DomainError
from crm.choices import EngagementTier
from crm.models import Contact


@transaction.atomic
def contact_scores_apply(*, scores: QuerySet) -> int:
    """Copies scores onto the contacts in one UPDATE ... FROM; returns the contacts changed.

    `scores` is any queryset of rows with `contact_id`, `score` (0..100) and `tier`. Only contacts
    whose score or tier differs are written, so re-applying the same scores changes nothing.
    """
    out_of_range = scores.exclude(score__gte=0, score__lte=100, tier__in=EngagementTier.values)
    if out_of_range.exists():
        raise DomainError("Some scores are out of range (score 0..100, tier one of "
                          f"{', '.join(EngagementTier.values)}).", code="invalid_scores")
    source_sql, params = scores.values("contact_id", "score", "tier").query.sql_with_params()
    table = connection.ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET engagement_score = s.score, engagement_tier = s.tier "
            f"FROM ({source_sql}) AS s WHERE {table}.id = s.contact_id "
            f"AND ({table}.engagement_score <> s.score OR {table}.engagement_tier <> s.tier)",
            params,
        )
        return cursor.rowcount
