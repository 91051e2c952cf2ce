"""The contact list API at 1,000,000 contacts: one page of 50 with two filters (a tag and a
lifecycle stage), measured in-process (server time, no network), its number of queries on the
first and on a far page, against the same count, page and tags queries written by hand.

    python -m bench crm_contact_list [--contacts 1000000] [--events 5000000] [--rebuild]

Uses the database of bench crm_segments (generated there when missing or of another size).
"""

from bench.crm_segments import hand_sql, median_ms, prepare

URL = "/api/contacts/?tag=vip&lifecycle_status=engaged"
HAND_WHERE = """c.erased_at IS NULL AND c.lifecycle_status = 'engaged'
    AND EXISTS (SELECT 1 FROM crm_contact_tags ct JOIN crm_tag t ON t.id = ct.tag_id
                WHERE ct.contact_id = c.id AND t.name = 'vip')"""


def queries_of(call) -> int:
    """Counted by an execute wrapper: Django clears its query log at each request's start."""
    from django.db import connection

    seen = []
    with connection.execute_wrapper(lambda execute, sql, params, many, context: seen.append(sql) or
                                    execute(sql, params, many, context)):
        call()
    return len(seen)


def main(argv):
    args = prepare(argv, "bench crm_contact_list")
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import Client

    from bench.conditions import describe

    # As Django's own test runner does: keep one connection, so each request is not a new log-in to PostgreSQL.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["*"]
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)

    def page(number: int):
        def get():
            response = client.get(f"{URL}&page={number}")
            assert response.status_code == 200, response.content[:300]
            return response
        return get

    total = page(1)().json()["count"]
    far = max(1, total // 50 - 1)
    first_queries, far_queries = queries_of(page(1)), queries_of(page(far))

    def hand(offset: int):
        count = hand_sql(f"SELECT count(*) FROM crm_contact c WHERE {HAND_WHERE}")
        rows = hand_sql(f"""
            WITH page AS (SELECT c.*, co.name AS company_name FROM crm_contact c
                          LEFT JOIN crm_company co ON co.id = c.company_id WHERE {HAND_WHERE}
                          ORDER BY c.created_at DESC, c.id DESC LIMIT 50 OFFSET {offset})
            SELECT page.*, (SELECT array_agg(t.name) FROM crm_contact_tags ct JOIN crm_tag t ON t.id = ct.tag_id
                            WHERE ct.contact_id = page.id) FROM page""")
        return lambda: (count(), rows())

    print(describe(contacts=args.contacts, events=args.events, matching=total, page_size=50, filters=2))
    for label, number in (("first page", 1), (f"page {far}", far)):
        ours, baseline = median_ms(page(number)), median_ms(hand((number - 1) * 50))
        print(f"{label}: {ours:.1f} ms server time | hand-written SQL {baseline:.1f} ms | ratio {ours / baseline:.2f} "
              "(goal: under 100 ms)")
    print(f"queries per page: {first_queries} on the first page, {far_queries} on page {far} "
          "(goal: the same fixed number)")
    return 0
