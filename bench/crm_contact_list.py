"""The contact list API at 1,000,000 contacts: one page of 50 with two filters (a tag and a
lifecycle stage), measured in-process (server time, no network), with its number of queries: the
first and a far page by number (the count stops at 1,001 rows or the end of the page asked for),
and the same two pages by cursor (keyset, no count), each against the same queries written by hand.

    python -m bench crm_contact_list [--contacts 1000000] [--events 5000000] [--rebuild]

Uses the database of bench crm_segments (generated there when missing or of another size).
"""

import base64
from urllib.parse import urlencode

from bench.crm_segments import api_client, hand_sql, paired_median_ms, prepare

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
    from bench.conditions import describe
    from crm.api.pagination import COUNT_AT_MOST

    client = api_client()

    def get(query: str):
        def call():
            response = client.get(f"{URL}&{query}")
            assert response.status_code == 200, response.content[:300]
            return response
        return call

    total = hand_sql(f"SELECT count(*) FROM crm_contact c WHERE {HAND_WHERE}")()[0][0]
    far = max(1, total // 50 - 1)
    # A deep keyset page starts after the contact at the far page's offset, as the API's own cursor would.
    position = hand_sql(f"SELECT c.created_at FROM crm_contact c WHERE {HAND_WHERE} "
                        f"ORDER BY c.created_at DESC, c.id DESC OFFSET {(far - 1) * 50} LIMIT 1")()[0][0]
    cursor = base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")
    pages = {"first page": ("page=1", 0), f"page {far}": (f"page={far}", (far - 1) * 50),
             "first page by cursor": ("cursor=", None), f"page {far} by cursor": (f"cursor={cursor}", position)}
    first = get("page=1")().json()
    queries = {label: queries_of(get(query)) for label, (query, _) in pages.items()}

    def hand_page(where: str, offset: int = 0):
        return hand_sql(f"""
            WITH page AS (SELECT c.*, co.name AS company_name FROM crm_contact c
                          LEFT JOIN crm_company co ON co.id = c.company_id WHERE {where}
                          ORDER BY c.created_at DESC, c.id DESC LIMIT 50 OFFSET {offset})
            SELECT page.*, (SELECT array_agg(t.name) FROM crm_contact_tags ct JOIN crm_tag t ON t.id = ct.tag_id
                            WHERE ct.contact_id = page.id) FROM page""")

    def hand(start):
        """What the API does, by hand: for a numbered page a count of at most COUNT_AT_MOST + 1 rows (or to the
        end of the page), then the page with its company and tags; a cursor page starts after a created_at."""
        if not isinstance(start, int):
            return hand_page(HAND_WHERE if start is None else f"{HAND_WHERE} AND c.created_at < '{start.isoformat()}'")
        count = hand_sql(f"SELECT count(*) FROM (SELECT c.id FROM crm_contact c WHERE {HAND_WHERE} "
                         f"LIMIT {max(COUNT_AT_MOST, start + 50) + 1}) counted")
        rows = hand_page(HAND_WHERE, start)
        return lambda: (count(), rows())

    # "Highest score" (the back-office sort, through the same FilterSet): crm_contact has no engagement_score
    # index since 8c58886 (scoring's updates stay HOT), so both sides read the matching rows and keep the top 50.
    by_score = {"first page, highest score first": (URL, HAND_WHERE),
                "first page, highest score first, no filter": ("/api/contacts/?", "c.erased_at IS NULL")}

    def hand_score_page(where: str):
        count = hand_sql(f"SELECT count(*) FROM (SELECT c.id FROM crm_contact c WHERE {where} "
                         f"LIMIT {COUNT_AT_MOST + 1}) counted")
        rows = hand_sql(f"""
            WITH page AS (SELECT c.*, co.name AS company_name FROM crm_contact c
                          LEFT JOIN crm_company co ON co.id = c.company_id WHERE {where}
                          ORDER BY c.engagement_score DESC, c.id DESC LIMIT 50)
            SELECT page.*, (SELECT array_agg(t.name) FROM crm_contact_tags ct JOIN crm_tag t ON t.id = ct.tag_id
                            WHERE ct.contact_id = page.id) FROM page""")
        return lambda: (count(), rows())

    def get_sorted(url: str):
        def call():
            response = client.get(f"{url}&ordering=-engagement_score&page=1")
            assert response.status_code == 200, response.content[:300]
            return response
        return call

    print(describe(contacts=args.contacts, events=args.events, matching=total, page_size=50, filters=2))
    print(f"first page reports count={first['count']:,} count_capped={first['count_capped']}")
    for label, (query, start) in pages.items():
        ours, baseline = paired_median_ms(get(query), hand(start), repeat=7 if label.startswith("page ") else 25)
        print(f"{label}: {ours:.1f} ms server time | hand-written SQL {baseline:.1f} ms | ratio {ours / baseline:.2f} "
              f"| {queries[label]} queries (goal: under 100 ms, a fixed number of queries)")
    for label, (url, where) in by_score.items():
        ours, baseline = paired_median_ms(get_sorted(url), hand_score_page(where), repeat=7)
        print(f"{label}: {ours:.1f} ms server time | hand-written SQL {baseline:.1f} ms | ratio {ours / baseline:.2f} "
              f"| {queries_of(get_sorted(url))} queries (goal: under 100 ms)")
    return 0
