"""Contact engagement scores, computed in bulk in SQL.

    points = Σ weight(kind) × 0.5 ^ (age in days / half-life)      (events up to now)
    score  = round(100 × (1 − e^(−points / scale)))                   (0..100)

The curve saturates, so a score means the same whatever the period: 20 decayed points (the
default scale) is 63, a single open today is 5, and a contact goes quiet by itself as events age.
Tiers by configurable thresholds (high ≥ 70, medium ≥ 40, low ≥ 10, else inactive). The lifetime
value is the sum of the contact's conversion values. Erased contacts are not scored: a full run
drops the score they had and returns their copy in crm to 0 (inactive).

A stored score is rewritten only when its score, tier or lifetime value moves, so `points` and
`computed_at` are those of the run that last changed it, and only those rows are copied onto the
contacts (crm's engagement_score and engagement_tier are written by nothing else).

A full run commits analytics' own tables first, then copies the changed scores onto the contacts in
rounds of their own transactions (see `_copy_to_contacts`); a run that stops half-way leaves its
start in a checkpoint, and the next run copies what it left.
"""

import datetime as dt
import math

from django.db import connection, transaction
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Mod
from django.utils import timezone

from aicmo_site.errors import DomainError
from analytics import conf
from analytics.models import ContactScore, FoldCheckpoint, ScoreTierCount
from crm.choices import EngagementTier, EventKind
from crm.models import Contact, EngagementEvent
from crm.services.scores import contact_scores_apply

_CHANGED = "analytics_changed_scores"
# Checkpoint of the copy onto crm: folded_at holds the start of a copy not finished yet (else null).
CRM_COPY = "scores_copied_to_crm"
# crm_contact keeps 15% of each page free (crm migration 0007): room for about 6 new row versions
# among about 40 rows. A transaction that rewrites at most 1/8 of a page's rows lets every new
# version stay on its page (a HOT update, which writes none of the table's 7 indexes); the next
# round's visit prunes the versions the last one left dead. One transaction rewriting every row
# kept only some of them HOT and took more than twice as long as 8 rounds (bench/NOTES.md).
_ROUNDS_PER_FULL_REWRITE = 8


def _decay_sql() -> str:
    """0.5 ^ (age in days / half-life), as e^((occurred − now) × ln 2 / half-life in seconds)."""
    if connection.vendor == "postgresql":
        # date_part gives float8 directly; EXTRACT gives numeric since PostgreSQL 14 and numeric
        # arithmetic over 10M events cost more than the scan (EXPLAIN ANALYZE; bench/NOTES.md).
        return "EXP((date_part('epoch', e.occurred_at) - %s) * %s)"
    return "EXP((julianday(e.occurred_at) - julianday(%s)) * 86400.0 * %s)"


def _now_param(now):
    if connection.vendor == "postgresql":
        return now.timestamp()
    return now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _scores_select(*, now, contact_id: int | None) -> tuple[str, list]:
    """(contact_id, score, tier, points, ltv) of every contact not erased, or of one contact."""
    weights = {kind: weight for kind, weight in conf.event_weights().items() if weight}
    thresholds = conf.tier_thresholds()
    events = connection.ops.quote_name(EngagementEvent._meta.db_table)
    contacts = connection.ops.quote_name(Contact._meta.db_table)
    when_now = connection.ops.adapt_datetimefield_value(now)
    per_second = math.log(2) / (conf.score_half_life_days() * 86400.0)
    one_event = " AND e.contact_id = %s" if contact_id is not None else ""
    one_param = [contact_id] if contact_id is not None else []
    # Grouped by contact_id as it is, so PostgreSQL reads the (contact_id, kind, occurred_at) index
    # alone, in contact order, into a group aggregate: no sort, no hash table of a million groups,
    # no visit of the table: less than half the time of the scan and sort it replaces (bench/NOTES.md).
    # The values of conversions are not in that index: they are summed apart, from conversions only.
    weight_case = ("CASE e.kind " + " ".join("WHEN %s THEN CAST(%s AS DOUBLE PRECISION)" for _ in weights)
                   + " ELSE 0 END")
    kinds = list(weights) or [""]
    points = (
        f"SELECT e.contact_id, SUM(({weight_case}) * {_decay_sql()}) AS points FROM {events} e "
        f"WHERE e.kind IN ({', '.join('%s' for _ in kinds)}) AND e.occurred_at <= %s{one_event} "
        f"GROUP BY e.contact_id"
    )
    points_params = [*(p for kind, weight in weights.items() for p in (kind, float(weight))),
                     _now_param(now), per_second, *kinds, when_now, *one_param]
    values = (
        f"SELECT e.contact_id, SUM(e.value) AS ltv FROM {events} e WHERE e.kind = %s AND e.occurred_at <= %s "
        f"AND e.value IS NOT NULL{one_event} GROUP BY e.contact_id"
    )
    values_params = [EventKind.CONVERTED, when_now, *one_param]
    score = "CAST(ROUND(100.0 * (1.0 - EXP(-COALESCE(p.points, 0) / %s))) AS INTEGER)"
    scored = (
        f"SELECT c.id AS contact_id, {score} AS score, COALESCE(p.points, 0) AS points, "
        f"COALESCE(v.ltv, 0) AS ltv FROM {contacts} c LEFT JOIN ({points}) p ON p.contact_id = c.id "
        f"LEFT JOIN ({values}) v ON v.contact_id = c.id WHERE c.erased_at IS NULL"
        f"{' AND c.id = %s' if contact_id is not None else ''}"
    )
    tier = (
        "CASE WHEN s.score >= %s THEN 'high' WHEN s.score >= %s THEN 'medium' "
        "WHEN s.score >= %s THEN 'low' ELSE 'inactive' END"
    )
    full = f"SELECT s.contact_id, s.score, {tier} AS tier, s.points, s.ltv FROM ({scored}) s"
    return full, [thresholds["high"], thresholds["medium"], thresholds["low"], conf.score_saturation(),
                  *points_params, *values_params, *one_param]


def _write_scores(cursor, *, now, contact_id: int | None) -> dict:
    """Writes analytics' own tables; returns the counts and what the crm copy needs."""
    scores_table = connection.ops.quote_name(ContactScore._meta.db_table)
    history_table = connection.ops.quote_name("analytics_contactscorehistory")
    select_sql, params = _scores_select(now=now, contact_id=contact_id)
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        # JIT compiled the aggregate and won nothing back. Every input of the joins below comes (or
        # can come) in contact order, so merge joins need no hash table: at 1M contacts the hash joins
        # spilled to disk (or, given the memory, the planner swapped the ordered aggregate for a hash
        # aggregate) and ran slower (EXPLAIN ANALYZE; bench/NOTES.md).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL enable_hashjoin = off")
    stored = scores_table
    if contact_id is not None:
        stored = f"(SELECT * FROM {scores_table} WHERE contact_id = %s)"
        params = [*params, contact_id]
    cursor.execute(f"DROP TABLE IF EXISTS {_CHANGED}")
    # Only the contacts whose score, tier or value moved are kept, and the stored scores of contacts
    # no longer scored (erased or deleted; score is null): most scores do not move from one run to
    # the next, and every write below is then proportional to what changed.
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_CHANGED} AS SELECT COALESCE(n.contact_id, o.contact_id) AS contact_id, "
        f"n.score, n.tier, n.points, n.ltv, o.score AS old_score, o.tier AS old_tier "
        f"FROM ({select_sql}) n FULL JOIN {stored} o ON o.contact_id = n.contact_id "
        f"WHERE n.contact_id IS NULL OR o.contact_id IS NULL OR o.score <> n.score OR o.tier <> n.tier "
        f"OR o.lifetime_value <> n.ltv",
        params,
    )
    if postgresql:
        cursor.execute("SET LOCAL enable_hashjoin = on")
    cursor.execute(f"SELECT contact_id, old_tier FROM {_CHANGED} WHERE score IS NULL")
    gone = cursor.fetchall()
    if gone:
        cursor.execute(f"DELETE FROM {scores_table} WHERE contact_id IN "
                       f"(SELECT contact_id FROM {_CHANGED} WHERE score IS NULL)")
    cursor.execute(
        f"INSERT INTO {history_table} (contact_id, day, score, tier) "
        f"SELECT n.contact_id, %s, n.score, n.tier FROM {_CHANGED} n "
        f"WHERE (n.old_score IS NULL AND n.score > 0) OR n.old_score <> n.score "
        f"ON CONFLICT (contact_id, day) DO UPDATE SET score = excluded.score, tier = excluded.tier",
        [timezone.localdate(now)],
    )
    changed = cursor.rowcount
    # "WHERE ... IS NOT NULL" also keeps SQLite's parser from reading ON CONFLICT as a join constraint.
    cursor.execute(
        f"INSERT INTO {scores_table} (contact_id, score, tier, points, lifetime_value, computed_at) "
        f"SELECT n.contact_id, n.score, n.tier, n.points, n.ltv, %s FROM {_CHANGED} n WHERE n.score IS NOT NULL "
        f"ON CONFLICT (contact_id) DO UPDATE SET score = excluded.score, tier = excluded.tier, "
        f"points = excluded.points, lifetime_value = excluded.lifetime_value, computed_at = excluded.computed_at",
        # Stored as the ORM stores it, so that the filter on computed_at of the copy finds these rows.
        [connection.ops.adapt_datetimefield_value(now)],
    )
    written = cursor.rowcount
    if contact_id is None:
        _tiers_recount(cursor, scores_table)
    else:
        cursor.execute(f"SELECT tier, old_tier FROM {_CHANGED}")
        _tiers_move(cursor.fetchall())
    cursor.execute(f"DROP TABLE IF EXISTS {_CHANGED}")
    return {"scores_changed": changed, "written": written, "gone": [pk for pk, _ in gone]}


def _tiers_recount(cursor, scores_table: str) -> None:
    """Counted afresh by every full run (one scan of the scores), which also drops what deleted
    contacts left in the counts."""
    ScoreTierCount.objects.all().delete()
    counts_table = connection.ops.quote_name(ScoreTierCount._meta.db_table)
    cursor.execute(f"INSERT INTO {counts_table} (tier, contacts) SELECT tier, COUNT(*) FROM {scores_table} "
                   f"GROUP BY tier")


def _tiers_move(moves: list[tuple[str | None, str | None]]) -> None:
    """One contact scored on demand: its old tier loses it, its new tier (if still scored) gains it."""
    for tier, old_tier in moves:
        if tier == old_tier:
            continue
        if old_tier is not None:
            ScoreTierCount.objects.filter(tier=old_tier, contacts__gt=0).update(contacts=F("contacts") - 1)
        if tier is not None:
            ScoreTierCount.objects.get_or_create(tier=tier)
            ScoreTierCount.objects.filter(tier=tier).update(contacts=F("contacts") + 1)


def _unscored_reset(contact_ids: list[int]) -> None:
    """Contacts no longer scored (erased) go back to crm's unscored state, 0 and inactive."""
    if contact_ids:
        contact_scores_apply(scores=Contact.objects.filter(pk__in=contact_ids).annotate(
            contact_id=F("id"), score=Value(0), tier=Value(EngagementTier.INACTIVE)))


def _copy_to_contacts(*, scores, rows: int, contacts: int) -> None:
    """Copies `scores` onto the contacts in rounds by contact id, each its own transaction, so that
    the rewrite of a large share of the contacts stays HOT (see _ROUNDS_PER_FULL_REWRITE)."""
    rounds = max(1, min(_ROUNDS_PER_FULL_REWRITE, math.ceil(_ROUNDS_PER_FULL_REWRITE * rows / max(contacts, 1))))
    if rounds == 1:
        contact_scores_apply(scores=scores)
        return
    scores = scores.annotate(copy_round=Mod(F("contact_id"), rounds))
    for copy_round in range(rounds):
        contact_scores_apply(scores=scores.filter(copy_round=copy_round))


def contacts_score(*, now=None) -> dict:
    """Scores every contact not erased (bulk, on a schedule)."""
    now = now or timezone.now()
    with transaction.atomic():
        # Also keeps two full runs from writing the same scores at once.
        FoldCheckpoint.objects.get_or_create(name=CRM_COPY)
        checkpoint = FoldCheckpoint.objects.select_for_update().get(name=CRM_COPY)
        unfinished = checkpoint.folded_at
        with connection.cursor() as cursor:
            result = _write_scores(cursor, now=now, contact_id=None)
        _unscored_reset(result["gone"])
        checkpoint.folded_at = min(unfinished, now) if unfinished else now
        checkpoint.save(update_fields=["folded_at"])
    # A full run leaves one stored score per scored contact, and the tiers were just counted from
    # them (counting the contacts themselves is slow at a million; bench/NOTES.md).
    scored = ScoreTierCount.objects.aggregate(n=Sum("contacts"))["n"] or 0
    # The rows this run wrote carry its time, and those of a run whose copy did not finish are at
    # or after the time it left in the checkpoint.
    to_copy = Q(computed_at=now) | (Q(computed_at__gte=unfinished) if unfinished else Q(pk__in=[]))
    _copy_to_contacts(scores=ContactScore.objects.filter(to_copy), rows=result["written"], contacts=scored)
    FoldCheckpoint.objects.filter(name=CRM_COPY, folded_at=checkpoint.folded_at).update(folded_at=None)
    return {"contacts_scored": scored, "scores_changed": result["scores_changed"]}


@transaction.atomic
def contact_score_one(*, contact_id: int, now=None) -> ContactScore:
    """Scores one contact on demand (same SQL, one contact, copied onto it at once)."""
    if Contact.objects.filter(pk=contact_id, erased_at__isnull=False).exists():
        # Its stored score, if any, goes with the next full run.
        raise DomainError("An erased contact is not scored.", code="contact_erased")
    now = now or timezone.now()
    with connection.cursor() as cursor:
        _write_scores(cursor, now=now, contact_id=contact_id)
    contact_scores_apply(scores=ContactScore.objects.filter(contact_id=contact_id, computed_at=now))
    return ContactScore.objects.get(contact_id=contact_id)
