"""Issue #17: every back-office list keeps a fixed query count. These are the lists whose own app tests
did not count their queries: each page is read with two rows, then with a dozen more (by other people,
so a row's author cannot hide a query per row), and must ask the database the same number of times."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import services as crm_services
from crm.tests.factories import ContactFactory, EnrichmentRunFactory, SegmentFactory

pytestmark = pytest.mark.django_db

CONSENT = "Yes, send me the newsletter."


def _segment(n, user):
    SegmentFactory(name=f"Segment {n}", created_by=user)


def _enrichment_run(n, user):
    EnrichmentRunFactory(requested_by=user, total=4, queued=1, enriched=3)


def _form(n, user):
    crm_services.form_create(name=f"Form {n}", by=user, consent_text=CONSENT, allowed_origins=["https://example.org"])


def _audited_change(n, user):
    ContactFactory(first_name=f"Person {n}")


LISTS = {
    "/contacts/segments/": ("Marketer", _segment),
    "/contacts/enrichment/": ("Marketer", _enrichment_run),
    "/contacts/forms/": ("Marketer", _form),
    "/audit/": ("Admin", _audited_change),
}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("url", list(LISTS))
def test_the_list_asks_the_same_number_of_queries_for_two_rows_as_for_fourteen(url, client, make_user):
    role, add_row = LISTS[url]
    client.force_login(make_user("viewer", role=role))
    for n in range(2):
        add_row(n, make_user(f"author-{n}"))
    client.get(url)  # the first read warms the caches a page may fill (permissions, the site's settings)
    few = _queries(client, url)
    for n in range(2, 14):
        add_row(n, make_user(f"author-{n}"))
    page = client.get(url).content.decode()
    assert _queries(client, url) == few, url
    assert page.count("<tr") >= 14, "the rows added are on the page"
