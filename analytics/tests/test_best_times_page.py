"""The heat map page of the best time to post."""

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse

from aicmo_site.roles import ANALYST
from publishing.tests.factories import ChannelFactory
from publishing.tests.test_best_times import _history

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_client(client, make_user):
    client.force_login(make_user("analyst", role=ANALYST))
    cache.clear()
    yield client
    cache.clear()


def test_heat_map_shows_the_peak_darkest_with_words_for_each_cell(analyst_client, django_assert_num_queries):
    ChannelFactory(name="Another channel")
    ours = ChannelFactory(name="Mastodon")
    _history(ours, peak=(1, 10), weeks=2)
    # Session, user, the channels, one aggregate however long the history, the menu's permissions (two).
    with django_assert_num_queries(6):
        page = analyst_client.get(reverse("analytics:best-times"), {"channel": ours.pk})
    text = page.content.decode()
    assert "from 10 published posts: <strong>low confidence</strong>" in text
    tuesday = text[text.index('<th scope="row">Tue</th>') :].split("</tr>")[0]
    cells = tuesday.split("<td ")[1:]
    assert 'class="heat-4"' in cells[10] and "2 posts, low confidence" in cells[10]
    assert 'class="heat-4"' not in "".join(cells[:10] + cells[11:])


def test_heat_map_without_history_or_with_a_wrong_channel(analyst_client):
    page = analyst_client.get(reverse("analytics:best-times"))
    assert "No email has been sent yet" in page.content.decode()
    channel = ChannelFactory(name="Slack")
    page = analyst_client.get(reverse("analytics:best-times"))
    assert "No published post on this channel has metrics yet" in page.content.decode()
    assert (
        "That channel does not exist."
        in analyst_client.get(reverse("analytics:best-times"), {"channel": channel.pk + 100}).content.decode()
    )


def test_heat_map_downloads_as_csv_of_7_by_24_cells(analyst_client):
    ours = ChannelFactory(name="Mastodon")
    _history(ours, peak=(1, 10), weeks=2)
    page = analyst_client.get(reverse("analytics:best-times"), {"channel": ours.pk}).content.decode()
    link = reverse("analytics-best-times", args=[ours.pk]) + "?format=csv"
    assert f'href="{link}"' in page and "Download CSV" in page

    response = analyst_client.get(link)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="best-times.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["day", "hour", "score", "confidence", "posts"] and len(rows) == 1 + 7 * 24
    assert rows[1][:2] == ["Monday", "00:00"] and rows[-1][:2] == ["Sunday", "23:00"]
    peak = next(row for row in rows if row[:2] == ["Tuesday", "10:00"])
    assert float(peak[2]) == max(float(row[2]) for row in rows[1:]) and peak[4] == "2"
    assert float(peak[3]) == round(2 / 7, 2)


def test_heat_map_csv_of_a_missing_channel_is_404(analyst_client):
    assert analyst_client.get(reverse("analytics-best-times", args=[999]) + "?format=csv").status_code == 404


def test_email_has_a_heat_map_from_opens_and_clicks_by_the_hour_sent(analyst_client):
    """Emails sent on Tuesdays at 10:00 were opened and clicked, those sent at other hours were not:
    Tuesday 10:00 is the darkest cell of email's map, and its CSV says so."""
    import datetime as dt
    import zoneinfo

    from django.conf import settings

    from publishing.email.choices import DeliveryStatus
    from publishing.tests.email.factories import EmailDeliveryFactory

    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    tuesday = dt.datetime(2026, 11, 3, 10, 5, tzinfo=zone)
    for week in range(4):
        sent = tuesday - dt.timedelta(weeks=week)
        EmailDeliveryFactory(status=DeliveryStatus.SENT, sent_at=sent, message_id=f"<t{week}@x>",
                             first_opened_at=sent + dt.timedelta(hours=1),
                             first_clicked_at=sent + dt.timedelta(hours=2))
        EmailDeliveryFactory(status=DeliveryStatus.SENT, sent_at=sent + dt.timedelta(days=1, hours=5),
                             message_id=f"<w{week}@x>")
    EmailDeliveryFactory(status=DeliveryStatus.QUEUED)

    page = analyst_client.get(reverse("analytics:best-times"), {"channel": "email"}).content.decode()
    assert "from 8 sent emails" in page and "an open counts 1, a click 1 more" in page
    row = page[page.index('<th scope="row">Tue</th>'):].split("</tr>")[0]
    assert 'class="heat-4"' in row.split("<td ")[1:][10]

    rows = list(csv.reader(io.StringIO(analyst_client.get(
        reverse("analytics-email-best-times") + "?format=csv").content.decode())))
    peak = next(r for r in rows if r[:2] == ["Tuesday", "10:00"])
    assert peak[4] == "4" and float(peak[2]) == max(float(r[2]) for r in rows[1:])
    assert next(r for r in rows if r[:2] == ["Wednesday", "15:00"])[4] == "4"
