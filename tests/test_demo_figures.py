"""The demo's data is consistent, and a campaign's figures agree wherever they are shown: the analytics
overview, the compare page, the campaign report page, their API, and the email send's page."""

import datetime as dt
import io
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from analytics.reports.measures import METRICS
from analytics.services.rollups import rollup_fold
from analytics.views import REPORT_KEYS
from crm.models import Contact, EngagementEvent, Segment
from crm.selectors import segment_count
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailCampaign, EmailDelivery, EmailLink, EmailTemplate
from publishing.email.services import email_campaign_set_up
from publishing.email.services.feedback import delivery_record_click
from publishing.models import Campaign
from publishing.services import campaign_create

pytestmark = pytest.mark.django_db


class _Tables(HTMLParser):
    """Every table of a page as rows of (cell texts, the first link of the row); a table by its id."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list] = {}
        self._tables: list[list] = []
        self._row: list | None = None
        self._cell: list[str] | None = None
        self._link = ""
        self._fields: dict[str, str] = {}
        self._field: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            rows = []
            self._tables.append(rows)
            self.tables[attrs.get("id") or f"table-{len(self.tables)}"] = rows
        elif tag == "tr":
            self._row, self._link = [], ""
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a" and self._row is not None and not self._link:
            self._link = attrs.get("href", "")
        if "data-field" in attrs:
            self._field = attrs["data-field"]
            self._fields[self._field] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._tables[-1].append((self._row, self._link))
            self._row = None
        elif tag == "table":
            self._tables.pop()
        elif tag == "span":
            self._field = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._field:
            self._fields[self._field] += data

    def field(self, name: str) -> str:
        return self._fields[name].strip()


def shown(client, url: str, params: dict) -> _Tables:
    response = client.get(url, params)
    assert response.status_code == 200, url
    return _Tables(response.content.decode())


def formatted(totals: dict) -> dict:
    return {key: METRICS[key].format(totals[key]) for key in REPORT_KEYS}


def by_measure(rows: list, column: int) -> dict:
    """A report table (one row per measure, labelled) read at one column, keyed by measure."""
    labels = {METRICS[key].label: key for key in REPORT_KEYS}
    return {labels[cells[0]]: cells[column] for cells, _link in rows if cells[0] in labels}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo seeded once for the module (seeding is the slow part of these tests), in a transaction
    rolled back after the last one; each test runs in a savepoint inside it, so none sees another's changes."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def test_the_demo_refers_only_to_campaigns_deliveries_and_contacts_that_exist(demo):
    events = EngagementEvent.objects.all()
    assert set(events.exclude(campaign_id=None).values_list("campaign_id", flat=True)) <= set(
        Campaign.objects.values_list("pk", flat=True))
    deliveries = {pk: (campaign_id, contact_id) for pk, campaign_id, contact_id in
                  EmailDelivery.objects.values_list("pk", "campaign_id", "contact_id")}
    from_deliveries = events.filter(source_kind="delivery")
    assert from_deliveries.exists()
    for campaign_id, contact_id, source_id in from_deliveries.values_list("campaign_id", "contact_id", "source_id"):
        assert deliveries[int(source_id)] == (campaign_id, contact_id)
    assert set(events.values_list("contact_id", flat=True)) <= set(Contact.objects.values_list("pk", flat=True))
    # Every send that has deliveries went out; the draft has none.
    sent = dict(EmailCampaign.objects.values_list("campaign__name", "status"))
    assert sent == {"October newsletter": SendStatus.COMPLETED, "November newsletter": SendStatus.DRAFT}
    assert not EmailDelivery.objects.filter(campaign__name="November newsletter").exists()
    assert all(segment_count(segment.rules) > 0 for segment in Segment.objects.all())


def test_a_second_seed_adds_nothing(demo, django_user_model):
    def counts():
        return (django_user_model.objects.count(), EngagementEvent.objects.count(), EmailDelivery.objects.count(),
                Campaign.objects.count())

    first = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first and first[0] >= 3  # the demo users (marketer, approver, analyst) once


def test_every_figure_of_a_campaign_is_the_same_on_every_page_and_in_the_api(demo, client, make_user, api_as):
    # A click from a reader whose images were blocked (no open recorded) still proves an open.
    october = Campaign.objects.get(name="October newsletter")
    unopened = EmailDelivery.objects.filter(campaign=october, first_opened_at=None).first()
    delivery_record_click(delivery=unopened, link=EmailLink.objects.get(campaign_id=october.pk))
    # A draft send with an empty audience.
    empty = campaign_create(by=None, name="Nobody yet", audience={"contact_ids": []})
    email_campaign_set_up(campaign=empty, template=EmailTemplate.objects.get(name="Monthly newsletter"),
                          from_email="news@aicmo.example")
    rollup_fold()
    today = timezone.localdate()
    period = {"start": (today - dt.timedelta(days=29)).isoformat(), "end": today.isoformat()}
    client.force_login(make_user("admin", role="Admin"))
    api = api_as("Analyst")
    campaigns = list(Campaign.objects.order_by("pk"))
    ids = ",".join(str(c.pk) for c in campaigns)

    compare_api = {r["campaign"]["id"]: r["totals"] for r in
                   api.get("/api/analytics/campaigns/", {"ids": ids, **period}).json()["campaigns"]}
    compare_page = shown(client, "/analytics/compare/", {"ids": ids, **period}).tables["campaign-comparison"]
    overview = shown(client, "/analytics/", period)
    top_campaigns = next(rows for rows in overview.tables.values() if rows and rows[0][0][0] == "Campaign")
    on_overview = {link: cells for cells, link in top_campaigns[1:]}
    for column, campaign in enumerate(campaigns, start=1):
        api_totals = api.get(f"/api/analytics/campaigns/{campaign.pk}/", period).json()["totals"]
        expected = formatted(api_totals)
        assert formatted(compare_api[campaign.pk]) == expected, campaign.name
        assert by_measure(compare_page, column) == expected, campaign.name
        report_page = shown(client, f"/analytics/campaigns/{campaign.pk}/", period).tables["campaign-totals"]
        assert by_measure(report_page, 1) == expected, campaign.name
        _name, revenue, conversions, clicks = on_overview.get(
            f"/analytics/campaigns/{campaign.pk}/", ["", METRICS["revenue"].format(0), "0", "0"])
        assert (revenue, conversions, clicks) == (expected["revenue"], expected["conversions"],
                                                  expected["clicks"]), campaign.name
        if hasattr(campaign, "email"):
            send_page = shown(client, f"/email/campaigns/{campaign.pk}/", {})
            sent = EmailDelivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).count()
            assert send_page.field("sent") == expected["sent"] == str(sent), campaign.name
            assert send_page.field("opened") == expected["unique_opens"], campaign.name

    october_totals = compare_api[october.pk]
    assert october_totals["sent"] > 100 and october_totals["conversions"] > 0
    assert october_totals["unique_opens"] == EmailDelivery.objects.filter(
        campaign=october).exclude(first_opened_at=None).count()
    for draft in ("November newsletter", "Nobody yet"):
        assert compare_api[Campaign.objects.get(name=draft).pk]["sent"] == 0, draft
