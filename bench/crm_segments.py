"""Segments on PostgreSQL over 1,000,000 contacts and 5,000,000 engagement events: the count
preview and the first page of members of a five-rule segment ("opened in the last 30 days",
tags, score, and a nested OR over lifecycle and a custom field), each against the same query
written by hand in SQL, measured in the same run, in turns. Prints medians, the ratio and the goals.
The members page is the selector the members API lists a numbered page with
(segment_members_page); the API page itself (count, page, JSON) is measured too, and a
segment on the unindexed engagement score.

    python -m bench crm_segments [--contacts 1000000] [--events 5000000] [--rebuild]

The data is generated in the database with generate_series (seconds, not minutes) into
postgres://postgres@127.0.0.1:5432/aicmo_bench_crm (or --database-url / BENCH_DATABASE_URL);
its CRM tables are emptied first: do not point it at data you want to keep.
"""

import argparse
import os
import statistics
import sys
import time

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aicmo_bench_crm"
RULES = {"op": "and", "rules": [
    {"field": "event", "operator": "within_days", "value": {"kind": "opened", "days": 30}},
    {"field": "tags", "operator": "any", "value": ["vip", "partner"]},
    {"field": "engagement_score", "operator": "gte", "value": 40},
    {"op": "or", "rules": [
        {"field": "lifecycle_status", "operator": "in", "value": ["engaged", "verified"]},
        {"field": "custom:plan", "operator": "eq", "value": "pro"},
    ]},
]}
HAND_WHERE = """
    c.erased_at IS NULL AND c.engagement_score >= 40
    AND (c.lifecycle_status IN ('engaged', 'verified') OR c.custom_fields -> 'plan' = '"pro"'::jsonb)
    AND EXISTS (SELECT 1 FROM crm_contact_tags ct JOIN crm_tag t ON t.id = ct.tag_id
                WHERE ct.contact_id = c.id AND t.name IN ('vip', 'partner'))
    AND EXISTS (SELECT 1 FROM crm_engagementevent e WHERE e.contact_id = c.id AND e.kind = 'opened'
                AND e.occurred_at >= now() - interval '30 days')
"""
# A segment on the score alone (crm_contact has no engagement_score index since 8c58886, so that scoring's
# updates are HOT): the count and the members page read the score from the rows.
SCORE_RULES = {"op": "and", "rules": [
    {"field": "engagement_score", "operator": "between", "value": [70, 100]},
    {"field": "lifecycle_status", "operator": "in", "value": ["engaged", "converted"]},
]}
SCORE_WHERE = """c.erased_at IS NULL AND c.engagement_score >= 70 AND c.engagement_score <= 100
    AND c.lifecycle_status IN ('engaged', 'converted')"""
TAGS = ("newsletter", "webinar", "trial", "partner", "vip", "event-2026")


def prepare(argv, prog: str):
    """Parses the common options, creates, migrates and (when needed) fills the database."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the data even if the sizes match")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    _create_database(args.database_url)
    from bench.conditions import setup_django

    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.DEBUG = False
    if connection.vendor != "postgresql":
        print(f"{prog} measures PostgreSQL: give a postgres:// --database-url", file=sys.stderr)
        raise SystemExit(2)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_contact")
        contacts = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM crm_engagementevent")
        events = cursor.fetchone()[0]
    if args.rebuild or (contacts, events) != (args.contacts, args.events):
        started = time.perf_counter()
        populate(args.contacts, args.events)
        elapsed = time.perf_counter() - started
        print(f"generated {args.contacts:,} contacts and {args.events:,} events in {elapsed:.0f} s")
    return args


def populate(contacts: int, events: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # The link tables are named: they have no foreign keys (crm 0008), so CASCADE does not reach them.
        cursor.execute("TRUNCATE crm_contact, crm_company, crm_tag, crm_segment, crm_enrichmentrun, crm_contact_tags, "
                       "crm_contact_topics RESTART IDENTITY CASCADE")
        cursor.execute("INSERT INTO crm_tag (name, color) SELECT unnest(%s::text[]), ''", [list(TAGS)])
        cursor.execute("""
            INSERT INTO crm_company (domain, name, industry, size, website, created_at, updated_at)
            SELECT 'company' || i || '.example', 'Company ' || i, 'Software', '11-50', '', now(), now()
            FROM generate_series(0, %s) i""", [contacts // 20])
        cursor.execute("""
            INSERT INTO crm_contact (email, first_name, last_name, job_title, phone, company_id, domain, linkedin_url,
                city, country, source, lifecycle_status, email_status, consent_status, consent_source, custom_fields,
                field_sources, engagement_score, engagement_tier, soft_bounce_count, created_at, updated_at)
            SELECT 'person' || i || '@company' || (i / 20) || '.example', 'First' || (i %% 97), 'Last' || (i %% 89),
                'Marketing manager', '', (i / 20) + 1, 'company' || (i / 20) || '.example', '', 'Paris', 'France',
                'bench',
                (ARRAY['new','enriched','verified','engaged','converted','unsubscribed','bounced'])[1 + i %% 7],
                (ARRAY['unknown','valid','risky','invalid'])[1 + i %% 4], 'subscribed', '',
                jsonb_build_object('plan', (ARRAY['free','pro','team'])[1 + i %% 3], 'seats', i %% 50), '{}'::jsonb,
                (i * 7919) %% 101,
                CASE WHEN (i * 7919) %% 101 >= 70 THEN 'high' WHEN (i * 7919) %% 101 >= 40 THEN 'medium'
                     WHEN (i * 7919) %% 101 > 0 THEN 'low' ELSE 'inactive' END,
                0, now() - make_interval(days => (i %% 730)::int), now()
            FROM generate_series(1::bigint, %s) i""", [contacts])
        cursor.execute("""
            INSERT INTO crm_contact_tags (contact_id, tag_id)
            SELECT id, 1 + id % 6 FROM crm_contact
            UNION ALL SELECT id, 1 + (id / 6 + 1) % 6 FROM crm_contact WHERE (id / 6 + 1) % 6 <> id % 6""")
        # Building the event indexes once after the load is far faster than updating them per row.
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'crm_engagementevent' "
                       "AND indexname NOT LIKE '%%pkey'")
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("""
            INSERT INTO crm_engagementevent (contact_id, kind, occurred_at, campaign_id, channel, source_kind,
                source_id, detail)
            SELECT 1 + (e * 7919) %% %s,
                (ARRAY['sent','sent','delivered','opened','opened','clicked','page_view','replied'])[1 + e %% 8],
                now() - make_interval(days => ((e * 31) %% 180)::int, secs => e %% 86400), 1 + e %% 20, 'email',
                'bench', '', '{}'::jsonb
            FROM generate_series(1::bigint, %s) e""", [contacts, events])
        for _, definition in indexes:
            cursor.execute(definition)
        # As crm.services.engagement keeps it (migration crm 0033 fills it the same way).
        cursor.execute("""
            UPDATE crm_contact c SET last_activity_at = latest.at
            FROM (SELECT contact_id, max(occurred_at) AS at FROM crm_engagementevent
                  WHERE kind NOT IN ('sent', 'delivered', 'bounced') GROUP BY contact_id) latest
            WHERE c.id = latest.contact_id""")
        # A live database's autovacuum sets the visibility map too; without it no index-only scan pays.
        cursor.execute("VACUUM ANALYZE")


def paired_median_ms(ours, baseline, repeat: int = 25) -> tuple[float, float]:
    """Medians of the two, run in turns (ours, baseline, ours, ...): on a machine others share, load that
    comes and goes then weighs on both sides alike instead of on whichever ran during it."""
    ours(), baseline()  # warm the caches once: every figure is a warm one
    times: tuple[list, list] = ([], [])
    for _ in range(repeat):
        for call, kept in zip((ours, baseline), times, strict=True):
            started = time.perf_counter()
            call()
            kept.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def hand_sql(sql: str):
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    return run


def api_client():
    """A logged-in test client keeping one connection, so a request is not also a new log-in to PostgreSQL."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import Client

    # As Django's own test runner does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["*"]
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)
    return client


def main(argv):
    args = prepare(argv, "bench crm_segments")
    from bench.conditions import describe
    from crm.api.pagination import COUNT_AT_MOST
    from crm.models import Segment
    from crm.selectors import segment_count, segment_members, segment_members_page
    from crm.services import segment_create

    segment = Segment.objects.filter(name="bench").first() or segment_create(name="bench", rules=RULES)
    by_score = Segment.objects.filter(name="bench score").first() or segment_create(name="bench score",
                                                                                     rules=SCORE_RULES)
    count = segment_count(RULES)
    hand_count = hand_sql(f"SELECT count(*) FROM crm_contact c WHERE {HAND_WHERE}")()[0][0]
    assert count == hand_count, (count, hand_count)
    score_count = segment_count(SCORE_RULES)
    assert score_count == hand_sql(f"SELECT count(*) FROM crm_contact c WHERE {SCORE_WHERE}")()[0][0]
    # The selector the members API lists a numbered page with must list what the queryset does.
    assert [c.pk for c in segment_members_page(segment, limit=50)] == [c.pk for c in segment_members(segment)[:50]]

    def members_page(of=segment):
        return [(contact, contact.tag_names) for contact in segment_members_page(of, offset=0, limit=50)]

    def hand_page_of(where: str):
        """What a members page reads, by hand: the same 50 contacts in the same order (newest first), each with
        its company's name and its tag names. Neither side counts: the API's capped count is measured apart."""
        return hand_sql(f"""
            WITH page AS (SELECT c.*, co.name AS company_name FROM crm_contact c
                          LEFT JOIN crm_company co ON co.id = c.company_id WHERE {where}
                          ORDER BY c.created_at DESC, c.id DESC LIMIT 50)
            SELECT page.*, (SELECT array_agg(t.name) FROM crm_contact_tags ct JOIN crm_tag t ON t.id = ct.tag_id
                            WHERE ct.contact_id = page.id) FROM page""")

    hand_page = hand_page_of(HAND_WHERE)
    client = api_client()

    def api_members_page():
        response = client.get(f"/api/segments/{segment.pk}/members/?page_size=50")
        assert response.status_code == 200, response.content[:300]

    # The API page also counts (at most COUNT_AT_MOST + 1 members) and writes JSON: its baseline is the capped
    # count and the page by hand, so the ratio shows what the server adds to the same SQL work.
    hand_count_capped = hand_sql(f"SELECT count(*) FROM (SELECT c.id FROM crm_contact c WHERE {HAND_WHERE} "
                                 f"LIMIT {COUNT_AT_MOST + 1}) counted")
    results = {
        "count preview": (*paired_median_ms(lambda: segment_count(RULES), hand_sql(
            f"SELECT count(*) FROM crm_contact c WHERE {HAND_WHERE}"), repeat=7), 1000),
        "members, first page of 50 (with tags)": (*paired_median_ms(members_page, hand_page), 200),
        "members API, first page of 50 with its capped count": (
            *paired_median_ms(api_members_page, lambda: (hand_count_capped(), hand_page())), 200),
        "score rule (70-100, engaged or converted): count preview": (*paired_median_ms(
            lambda: segment_count(SCORE_RULES), hand_sql(f"SELECT count(*) FROM crm_contact c WHERE {SCORE_WHERE}"),
            repeat=7), 1000),
        "score rule: members, first page of 50 (with tags)": (
            *paired_median_ms(lambda: members_page(by_score), hand_page_of(SCORE_WHERE)), 200),
    }
    print(describe(contacts=args.contacts, events=args.events, segment_members=count, rules=5,
                   score_segment_members=score_count))
    for label, (ours, baseline, goal) in results.items():
        print(f"{label}: {ours:.1f} ms | hand-written SQL {baseline:.1f} ms | ratio {ours / baseline:.2f} "
              f"(goal: under {goal} ms and at most 1.5x)")
    return 0


def _create_database(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(url.replace(parts.path, "/postgres", 1), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
