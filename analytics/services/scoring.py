"""Contact engagement scores, computed in bulk in SQL.

    points = Σ weight(kind) × 0.5 ^ (age in days / half-life)      (events up to now)
    score  = round(100 × (1 − e^(−points / scale)))                   (0..100)

The curve saturates, so a score means the same whatever the period: 20 decayed points (the
default scale) is 63, a single open today is 5, and a contact goes quiet by itself as events age.
Tiers by configurable thresholds (high ≥ 70, medium ≥ 40, low ≥ 10, else inactive). The lifetime
value is the sum of the contact's conversion values.

A stored score is rewritten only when its score, tier or lifetime value moves, so `points` and
`computed_at` are those of the run that last changed it, and only those rows are copied onto the
contacts (crm's engagement_score and engagement_tier are written by nothing else).
"""

import datetime as dt

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from analytics import conf
from analytics.models import ContactScore, ScoreTierCount
from crm.choices import EventKind
from crm.models import Contact, EngagementEvent
from crm.services.scores import contact_scores_apply

_CHANGED = "analytics_changed_scores"


def _age_days_sql() -> str:
    if connection.vendor == "postgresql":
        # float8, not numeric: PostgreSQL's numeric POWER is two orders of magnitude slower.
        return "CAST(EXTRACT(EPOCH FROM (%s::timestamptz - e.occurred_at)) AS DOUBLE PRECISION) / 86400.0"
    return "(julianday(%s) - julianday(e.occurred_at))"


def _now_param(now):
    if connection.vendor == "postgresql":
        return now
    return now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _scores_select(*, now, contact_id: int | None) -> tuple[str, list]:
    weights = conf.event_weights()
    thresholds = conf.tier_thresholds()
    events = connection.ops.quote_name(EngagementEvent._meta.db_table)
    contacts = connection.ops.quote_name(Contact._meta.db_table)
    weight_case = "CASE e.kind " + " ".join("WHEN %s THEN %s" for _ in weights) + " ELSE 0 END"
    weight_params = [p for kind, weight in weights.items() for p in (kind, float(weight))]
    kinds = list(weights) + ([EventKind.CONVERTED] if EventKind.CONVERTED not in weights else [])
    score_expr = "CAST(ROUND(100.0 * (1.0 - EXP(-COALESCE(a.points, 0) / %s))) AS INTEGER)"
    params: list = [*weight_params, _now_param(now), conf.score_half_life_days(), EventKind.CONVERTED,
                    *kinds, _now_param(now)]
    where_contact = ""
    if contact_id is not None:
        where_contact = " AND e.contact_id = %s"
        params.append(contact_id)
    # "contact_id + 0" keeps PostgreSQL from walking the contact_id index to get groups in order:
    # every event is read anyway, and one sequential scan into a hash aggregate is several times
    # faster than a random-order index scan over the whole table (seen in EXPLAIN at 100k contacts).
    aggregate = (
        f"SELECT e.contact_id + 0 AS contact_id, "
        f"SUM(({weight_case}) * POWER(CAST(0.5 AS DOUBLE PRECISION), ({_age_days_sql()}) / %s)) AS points, "
        f"SUM(CASE WHEN e.kind = %s THEN COALESCE(e.value, 0) ELSE 0 END) AS ltv "
        f"FROM {events} e WHERE e.kind IN ({', '.join('%s' for _ in kinds)}) AND e.occurred_at <= %s"
        f"{where_contact} GROUP BY e.contact_id + 0"
    )
    scale = conf.score_saturation()
    sql = (
        f"SELECT c.id AS contact_id, {score_expr} AS score, COALESCE(a.points, 0) AS points, "
        f"COALESCE(a.ltv, 0) AS ltv FROM {contacts} c LEFT JOIN ({aggregate}) a ON a.contact_id = c.id"
        f"{' WHERE c.id = %s' if contact_id is not None else ''}"
    )
    params = [scale, *params]
    if contact_id is not None:
        params.append(contact_id)
    tier = (
        "CASE WHEN s.score >= %s THEN 'high' WHEN s.score >= %s THEN 'medium' "
        "WHEN s.score >= %s THEN 'low' ELSE 'inactive' END"
    )
    full = f"SELECT s.contact_id, s.score, {tier} AS tier, s.points, s.ltv FROM ({sql}) s"
    return full, [thresholds["high"], thresholds["medium"], thresholds["low"], *params]


def _write_scores(*, now, contact_id: int | None) -> dict:
    scores_table = connection.ops.quote_name(ContactScore._meta.db_table)
    history_table = connection.ops.quote_name("analytics_contactscorehistory")
    select_sql, params = _scores_select(now=now, contact_id=contact_id)
    today = timezone.localdate(now)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_CHANGED}")
        # Only the contacts whose score, tier or value moved are kept: most do not from one run to
        # the next, and every write below (history, stored score, the contact's own fields with
        # their indexes) is then proportional to what changed, not to the number of contacts.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_CHANGED} AS SELECT n.contact_id, n.score, n.tier, n.points, n.ltv, "
            f"o.score AS old_score, o.tier AS old_tier "
            f"FROM ({select_sql}) n LEFT JOIN {scores_table} o ON o.contact_id = n.contact_id "
            f"WHERE o.contact_id IS NULL OR o.score <> n.score OR o.tier <> n.tier OR o.lifetime_value <> n.ltv",
            params,
        )
        cursor.execute(
            f"INSERT INTO {history_table} (contact_id, day, score, tier) "
            f"SELECT n.contact_id, %s, n.score, n.tier FROM {_CHANGED} n "
            f"WHERE (n.old_score IS NULL AND n.score > 0) OR n.old_score <> n.score "
            f"ON CONFLICT (contact_id, day) DO UPDATE SET score = excluded.score, tier = excluded.tier",
            [today],
        )
        changed = cursor.rowcount
        # "WHERE 1 = 1" keeps SQLite's parser from reading ON CONFLICT as a join constraint.
        cursor.execute(
            f"INSERT INTO {scores_table} (contact_id, score, tier, points, lifetime_value, computed_at) "
            f"SELECT n.contact_id, n.score, n.tier, n.points, n.ltv, %s FROM {_CHANGED} n WHERE 1 = 1 "
            f"ON CONFLICT (contact_id) DO UPDATE SET score = excluded.score, tier = excluded.tier, "
            f"points = excluded.points, lifetime_value = excluded.lifetime_value, computed_at = excluded.computed_at",
            # Stored as the ORM stores it, so that the filter on computed_at below finds these rows.
            [connection.ops.adapt_datetimefield_value(now)],
        )
        if contact_id is None:
            _tiers_recount(cursor, scores_table)
        else:
            cursor.execute(f"SELECT tier, old_tier FROM {_CHANGED}")
            _tiers_move(cursor.fetchall())
        cursor.execute(f"DROP TABLE IF EXISTS {_CHANGED}")
    # The rows this run wrote carry its time: the contacts' copies need nothing else.
    contact_scores_apply(scores=ContactScore.objects.filter(computed_at=now))
    if contact_id is None:
        # A full run leaves one stored score per contact, and the tiers were just counted from them
        # (counting the contacts themselves took a second at a million).
        scored = ScoreTierCount.objects.aggregate(n=Sum("contacts"))["n"] or 0
    else:
        scored = Contact.objects.filter(pk=contact_id).count()
    return {"contacts_scored": scored, "scores_changed": changed}


def _tiers_recount(cursor, scores_table: str) -> None:
    """Counted afresh by every full run (one scan of the scores), which also drops what deleted
    contacts left in the counts."""
    ScoreTierCount.objects.all().delete()
    counts_table = connection.ops.quote_name(ScoreTierCount._meta.db_table)
    cursor.execute(f"INSERT INTO {counts_table} (tier, contacts) SELECT tier, COUNT(*) FROM {scores_table} "
                   f"GROUP BY tier")


def _tiers_move(moves: list[tuple[str, str | None]]) -> None:
    """One contact scored on demand: its old tier loses it, its new tier gains it."""
    for tier, old_tier in moves:
        if tier == old_tier:
            continue
        if old_tier is not None:
            ScoreTierCount.objects.filter(tier=old_tier, contacts__gt=0).update(contacts=F("contacts") - 1)
        ScoreTierCount.objects.get_or_create(tier=tier)
        ScoreTierCount.objects.filter(tier=tier).update(contacts=F("contacts") + 1)


@transaction.atomic
def contacts_score(*, now=None) -> dict:
    """Scores every contact (bulk, on a schedule)."""
    return _write_scores(now=now or timezone.now(), contact_id=None)


@transaction.atomic
def contact_score_one(*, contact_id: int, now=None) -> ContactScore:
    """Scores one contact on demand (same SQL, one contact)."""
    _write_scores(now=now or timezone.now(), contact_id=contact_id)
    return ContactScore.objects.get(contact_id=contact_id)
