"""Contact list pages at 1,000,000 contacts, measured in-process (server time, no network), with their
number of queries: the API and the back-office page, newest first, by highest score and by last activity
(most recent first, the never active last), unfiltered and with two filters (a tag and a lifecycle stage),
the first page and a far page by number (the count stops at 1,001 rows or the end of the page asked for),
and by cursor (keyset, no count).

Each is run in turns with the same page written by hand the fast way: a count as far as the page,
the page's ids picked sorted and limited first, then only those 50 joined to their company and tags.
A far numbered page is measured once on its own right after a new contact (the list numbered again,
crm.page_anchors, in the request), once as its first visit after the numbering its list's first page queues
(the task run here, timed apart: a worker's work), then warm; and the scheduled numbering of the unfiltered
lists is timed once. The hand-written last activity pages sort by the same never-NULL key as the
contact list (crm.models.last_activity_key), which its index serves.

    python -m bench crm_contact_list [--contacts 1000000] [--events 5000000] [--rebuild] [--first-visits]

--first-visits measures only the far pages' first visits and the numbering (no medians, no hand-written SQL).
--worker (with REDIS_URL, a Redis database of the bench's own, and Q_CLUSTER_NAME set) does so through a real
qcluster worker: the far page's list forgotten, its first page asked (which queues the numbering), the far page
asked once the worker has stored the positions; it prints how long that took and the first visit.

Uses the database of bench crm_segments (generated there when missing or of another size).
"""

import base64
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.crm_segments import api_client, hand_sql, paired_median_ms, prepare

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


def first_visit(get, url: str) -> str:
    """The far page's first visit after the worker numbered its list (the task its first page queues, with the
    filters of its query string; the back office sorts newest first when none is given)."""
    from django.core.cache import cache

    from crm.tasks import page_anchors_number_task

    filters = {name: values for name, values in parse_qs(urlsplit(url).query).items() if name != "page"}
    if url.startswith("/contacts/"):
        filters.setdefault("ordering", ["-created_at"])
    cache.clear()
    started = time.perf_counter()
    page_anchors_number_task(filters)
    numbered = time.perf_counter()
    get(url)()
    return (f"numbered by the worker in {(numbered - started) * 1000:.0f} ms, first visit then "
            f"{(time.perf_counter() - numbered) * 1000:.1f} ms")


def first_visit_by_worker(get, url: str) -> str:
    """The far page's first visit after its first page queued the numbering and a real worker did it. Only this
    list's positions are forgotten: the cache is Redis, which others may share."""
    from django.core.cache import cache
    from django.db import connection

    from crm import page_anchors, selectors

    filters = {name: values for name, values in parse_qs(urlsplit(url).query).items() if name != "page"}
    if url.startswith("/contacts/"):
        filters.setdefault("ordering", ["-created_at"])
    key = page_anchors._listed(selectors.contacts_filtered(filters))[2]
    cache.delete_many([key, key + page_anchors.QUEUED])
    get(url.replace(f"page={parse_qs(urlsplit(url).query)['page'][0]}", "page=1"))()
    asked = time.perf_counter()
    while cache.get(key) is None:
        if time.perf_counter() - asked > 300:
            return "not numbered by the worker within 300 s"
        time.sleep(0.02)
    ready = time.perf_counter()
    seen = []
    with connection.execute_wrapper(lambda execute, sql, params, many, context: seen.append(sql) or
                                    execute(sql, params, many, context)):
        get(url)()
    numbered = any("ROW_NUMBER" in sql.upper() for sql in seen)
    return (f"positions stored by the worker {(ready - asked) * 1000:.0f} ms after the first page, first visit then "
            f"{(time.perf_counter() - ready) * 1000:.1f} ms ({len(seen)} queries, numbered in the request: {numbered})")


def main(argv):
    by_worker = "--worker" in argv
    first_visits = by_worker or "--first-visits" in argv
    args = prepare([arg for arg in argv if arg not in ("--first-visits", "--worker")], "bench crm_contact_list")
    import os

    from django.core.cache import cache

    from bench.conditions import describe
    from crm.api.pagination import COUNT_AT_MOST

    client = api_client()

    def get(url: str):
        def call():
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]
            return response
        return call

    total = hand_sql(f"SELECT count(*) FROM crm_contact c WHERE {HAND_WHERE}")()[0][0]
    everyone = hand_sql("SELECT count(*) FROM crm_contact c WHERE c.erased_at IS NULL")()[0][0]
    far, far_everyone = max(1, total // 50 - 1), max(1, everyone // 50 - 1)
    # A deep keyset page starts after the contact at the far page's offset, as the API's own cursor would.
    position = hand_sql(f"SELECT c.created_at FROM crm_contact c WHERE {HAND_WHERE} "
                        f"ORDER BY c.created_at DESC, c.id DESC OFFSET {(far - 1) * 50} LIMIT 1")()[0][0]
    cursor = base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")

    def hand(where: str, order: str, offset: int | None, after=None):
        """The page by hand: for a numbered page a count of at most COUNT_AT_MOST + 1 rows (or to the end of the
        page); then 50 ids sorted and limited, and only those joined to their company and tags."""
        if after is not None:
            where = f"{where} AND c.created_at < '{after.isoformat()}'"
        rows = hand_sql(f"""
            WITH picked AS (SELECT c.id FROM crm_contact c WHERE {where} ORDER BY {order} LIMIT 50
                            OFFSET {offset or 0})
            SELECT c.*, co.name AS company_name,
                   (SELECT array_agg(t.name) FROM crm_contact_tags ct JOIN crm_tag t ON t.id = ct.tag_id
                    WHERE ct.contact_id = c.id)
            FROM picked JOIN crm_contact c ON c.id = picked.id LEFT JOIN crm_company co ON co.id = c.company_id
            ORDER BY {order}""")
        if offset is None:
            return rows
        count = hand_sql(f"SELECT count(*) FROM (SELECT c.id FROM crm_contact c WHERE {where} "
                         f"LIMIT {max(COUNT_AT_MOST, offset + 50) + 1}) counted")
        return lambda: (count(), rows())

    newest, score = "c.created_at DESC, c.id DESC", "c.engagement_score DESC, c.id DESC"
    active = "COALESCE(c.last_activity_at, '0001-01-01 00:00:00+00'::timestamptz) DESC, c.id DESC"
    inactive = "COALESCE(c.last_activity_at, '9999-12-31 00:00:00+00'::timestamptz), c.id"
    filtered, unfiltered = "/api/contacts/?tag=vip&lifecycle_status=engaged&", "/api/contacts/?"
    cases = {  # label: (our URL, the hand-written page)
        "first page": (f"{filtered}page=1", hand(HAND_WHERE, newest, 0)),
        f"page {far}": (f"{filtered}page={far}", hand(HAND_WHERE, newest, (far - 1) * 50)),
        "first page by cursor": (f"{filtered}cursor=", hand(HAND_WHERE, newest, None)),
        f"page {far} by cursor": (f"{filtered}cursor={cursor}", hand(HAND_WHERE, newest, None, position)),
        "highest score, first page": (f"{filtered}ordering=-engagement_score&page=1", hand(HAND_WHERE, score, 0)),
        f"highest score, page {far}": (f"{filtered}ordering=-engagement_score&page={far}",
                                       hand(HAND_WHERE, score, (far - 1) * 50)),
        "no filter, first page": (f"{unfiltered}page=1", hand("c.erased_at IS NULL", newest, 0)),
        f"no filter, page {far_everyone}": (f"{unfiltered}page={far_everyone}",
                                            hand("c.erased_at IS NULL", newest, (far_everyone - 1) * 50)),
        "no filter, highest score, first page": (f"{unfiltered}ordering=-engagement_score&page=1",
                                                 hand("c.erased_at IS NULL", score, 0)),
        f"no filter, highest score, page {far_everyone}": (
            f"{unfiltered}ordering=-engagement_score&page={far_everyone}",
            hand("c.erased_at IS NULL", score, (far_everyone - 1) * 50)),
        "recently active, first page": (f"{filtered}ordering=-last_activity_at&page=1", hand(HAND_WHERE, active, 0)),
        f"recently active, page {far}": (f"{filtered}ordering=-last_activity_at&page={far}",
                                         hand(HAND_WHERE, active, (far - 1) * 50)),
        "no filter, recently active, first page": (f"{unfiltered}ordering=-last_activity_at&page=1",
                                                   hand("c.erased_at IS NULL", active, 0)),
        f"no filter, recently active, page {far_everyone}": (
            f"{unfiltered}ordering=-last_activity_at&page={far_everyone}",
            hand("c.erased_at IS NULL", active, (far_everyone - 1) * 50)),
        f"no filter, least recently active, page {far_everyone // 2}": (
            f"{unfiltered}ordering=last_activity_at&page={far_everyone // 2}",
            hand("c.erased_at IS NULL", inactive, (far_everyone // 2 - 1) * 50)),
        "back office, first page": ("/contacts/?tag=vip&lifecycle_status=engaged&page=1",
                                    hand(HAND_WHERE, newest, 0)),
        f"back office, page {far}": (f"/contacts/?tag=vip&lifecycle_status=engaged&page={far}",
                                     hand(HAND_WHERE, newest, (far - 1) * 50)),
        f"back office, highest score, page {far}": (
            f"/contacts/?tag=vip&lifecycle_status=engaged&ordering=-engagement_score&page={far}",
            hand(HAND_WHERE, score, (far - 1) * 50)),
        f"back office, recently active, page {far}": (
            f"/contacts/?tag=vip&lifecycle_status=engaged&ordering=-last_activity_at&page={far}",
            hand(HAND_WHERE, active, (far - 1) * 50)),
    }
    first = get(f"{filtered}page=1")().json()
    print(describe(contacts=args.contacts, events=args.events, matching=total, page_size=50, filters=2,
                   cache=cache.__class__.__name__))
    print(f"load average before: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    print(f"first page reports count={first['count']:,} count_capped={first['count_capped']}")
    if by_worker:
        import subprocess
        import sys

        if "REDIS_URL" not in os.environ or "Q_CLUSTER_NAME" not in os.environ:
            print("--worker needs REDIS_URL (a Redis database of its own) and Q_CLUSTER_NAME", file=sys.stderr)
            return 2
        worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], env={**os.environ, "Q_WORKERS": "1"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for label, (url, _) in cases.items():
                if not url.endswith("page=1") and "cursor=" not in url:
                    print(f"{label}: {first_visit_by_worker(get, url)} (goal: under 100 ms)")
        finally:
            worker.terminate()
            worker.wait()
        print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
        return 0
    for label, (url, baseline) in cases.items():
        if not url.endswith("page=1") and "cursor=" not in url:
            cache.clear()  # numbered again: what the first far page after a new contact costs
            once = time.perf_counter()
            get(url)()
            numbering = f" | numbered in the request in {(time.perf_counter() - once) * 1000:.0f} ms"
            numbering += f" | {first_visit(get, url)}"
        elif first_visits:
            continue
        else:
            numbering = ""
        if first_visits:
            print(f"{label}:{numbering[2:]} (goal: under 100 ms)")
            continue
        ours, hand_ms = paired_median_ms(get(url), baseline, repeat=9)
        print(f"{label}: {ours:.1f} ms server time | hand-written SQL {hand_ms:.1f} ms | ratio {ours / hand_ms:.2f} "
              f"| {queries_of(get(url))} queries{numbering} (goal: under 100 ms)")
    from crm.tasks import page_anchors_keep_task

    cache.clear()
    once, cpu = time.perf_counter(), time.process_time()
    kept = page_anchors_keep_task()
    print(f"scheduled numbering of the {kept} unfiltered lists: {time.perf_counter() - once:.1f} s "
          f"({time.process_time() - cpu:.1f} s of this process's CPU)")
    print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    return 0
