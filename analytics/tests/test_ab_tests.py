"""A/B test results in the campaign report, API and page, checked against hand-computed figures:
A 12 of 20 opened, B 4 of 20; Wilson 95% intervals and the pooled two-proportion z-test."""

import datetime as dt

import pytest

from analytics.reports import campaign_report
from crm.tests.factories import ContactFactory
from publishing.email.choices import SendStatus
from publishing.email.models import EmailDelivery
from publishing.email.services import email_campaign_transition
from publishing.email.services.ab_tests import ab_test_create, ab_test_pick_winner
from publishing.tests.email.factories import EmailCampaignFactory

pytestmark = pytest.mark.django_db
SENT_AT = dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC)


@pytest.fixture
def ab_campaign():
    email = EmailCampaignFactory()
    test = ab_test_create(email_campaign=email, variants=[{"label": "A", "subject": "Spring is here"},
                                                         {"label": "B", "subject": "New: spring launch"}])
    variants = {v.label: v for v in test.variants.all()}
    contacts = ContactFactory.create_batch(41)
    rows = []
    for n, contact in enumerate(contacts[:40]):
        label, index = ("A", n) if n < 20 else ("B", n - 20)
        opened = index < (12 if label == "A" else 4)
        rows.append(EmailDelivery(campaign_id=email.campaign_id, contact=contact, variant=variants[label],
                                  status="sent", message_id=f"<{n}@aicmo>", sent_at=SENT_AT,
                                  first_opened_at=SENT_AT if opened else None, open_count=int(opened)))
    # Not sent yet: not a recipient of the test.
    rows.append(EmailDelivery(campaign_id=email.campaign_id, contact=contacts[40], variant=variants["B"]))
    EmailDelivery.objects.bulk_create(rows)
    # The variants went out: the send is under way, when a winner may be picked.
    email_campaign_transition(email_campaign=email, to=SendStatus.SENDING)
    return email, test, variants


def test_campaign_report_carries_rates_intervals_p_values_and_winner(ab_campaign):
    email, test, variants = ab_campaign
    ab_test_pick_winner(test=test, winner=variants["A"], note="A by a person")

    ab = campaign_report(email.campaign_id)["ab_test"]

    assert (ab["metric"], ab["winner"], ab["status"], ab["decision_note"]) == ("open_rate", "A", "decided",
                                                                               "A by a person")
    a, b = ab["variants"]
    assert (a["label"], a["recipients"], a["successes"], a["winner"]) == ("A", 20, 12, True)
    assert (b["label"], b["recipients"], b["successes"], b["winner"]) == ("B", 20, 4, False)
    assert (a["rate"], b["rate"]) == (pytest.approx(0.6), pytest.approx(0.2))
    assert (a["interval_low"], a["interval_high"]) == (pytest.approx(0.386582, abs=1e-6),
                                                       pytest.approx(0.781193, abs=1e-6))
    assert (b["interval_low"], b["interval_high"]) == (pytest.approx(0.080658, abs=1e-6),
                                                       pytest.approx(0.416017, abs=1e-6))
    assert a["p_value"] is None
    assert b["p_value"] == pytest.approx(0.0098233, abs=1e-6)


def test_a_campaign_without_an_ab_test_has_none_and_no_section(ab_campaign, api_as):
    other = EmailCampaignFactory()
    assert campaign_report(other.campaign_id)["ab_test"] is None
    api = api_as("Analyst")
    assert api.get(f"/api/analytics/campaigns/{other.campaign_id}/").json()["ab_test"] is None


def test_api_and_page_show_the_ab_test(ab_campaign, api_as, client, make_user):
    email, _, _ = ab_campaign
    body = api_as("Analyst").get(f"/api/analytics/campaigns/{email.campaign_id}/").json()
    assert [v["successes"] for v in body["ab_test"]["variants"]] == [12, 4]
    assert body["ab_test"]["winner"] is None

    client.force_login(make_user("ana", role="Analyst"))
    html = client.get(f"/analytics/campaigns/{email.campaign_id}/").content.decode()
    assert 'id="ab-variants"' in html
    assert "60.0%" in html and "38.7% – 78.1%" in html and "0.0098" in html
    assert "No winner yet" in html
