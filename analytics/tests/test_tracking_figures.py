"""Opens and clicks recorded as hits and folded in the background give the same delivery counts, stages
and report figures (opens, unique opens, clicks) as the same opens and clicks applied at once."""

import pytest

from analytics.reports import campaign_report
from analytics.services import rollup_fold
from crm.choices import LifecycleStatus
from crm.models import Contact, LifecycleTransition
from crm.tests.factories import ContactFactory
from publishing.email.models import EmailDelivery, EmailLink
from publishing.email.services.feedback import delivery_record_click, delivery_record_open
from publishing.email.services.tracking import fold_tracking_hits
from publishing.email.tokens import make_token
from publishing.tests.email.factories import EmailDeliveryFactory
from publishing.tests.factories import CampaignFactory


def audience(size: int):
    campaign = CampaignFactory()
    deliveries = [EmailDeliveryFactory(campaign=campaign, contact=ContactFactory()) for _ in range(size)]
    link = EmailLink.objects.create(campaign=campaign, url="https://example.org/offer", url_hash="offer")
    return campaign, deliveries, link


@pytest.mark.django_db
def test_folded_hits_give_the_same_figures_as_opens_and_clicks_applied_at_once(client):
    folded, deliveries, link = audience(3)
    direct, direct_deliveries, direct_link = audience(3)
    # The same story in both: the first opens twice and clicks, the second only clicks (images blocked),
    # the third does nothing.
    for url in (f"/t/o/{make_token('open', deliveries[0].pk)}", f"/t/o/{make_token('open', deliveries[0].pk)}",
                f"/t/c/{make_token('click', deliveries[0].pk, link.pk)}",
                f"/t/c/{make_token('click', deliveries[1].pk, link.pk)}"):
        assert client.get(url).status_code in (200, 302)
    delivery_record_open(delivery=direct_deliveries[0])
    delivery_record_open(delivery=direct_deliveries[0])
    delivery_record_click(delivery=direct_deliveries[0], link=direct_link)
    delivery_record_click(delivery=direct_deliveries[1], link=direct_link)
    assert fold_tracking_hits() == 4

    rollup_fold()
    mine, theirs = campaign_report(folded.pk)["totals"], campaign_report(direct.pk)["totals"]
    assert mine == theirs
    assert (mine["opens"], mine["unique_opens"], mine["clicks"]) == (2, 2, 2)

    def story(campaign):
        return [(d.open_count, d.click_count, d.first_opened_at is not None, d.first_clicked_at is not None,
                 Contact.objects.get(pk=d.contact_id).lifecycle_status)
                for d in EmailDelivery.objects.filter(campaign=campaign).order_by("pk")]
    moves = LifecycleTransition.objects.filter(contact__email_deliveries__campaign=folded).order_by("contact_id")
    assert [(m.from_status, m.to_status, m.by_system, m.reason[:10]) for m in moves] == [
        (LifecycleStatus.NEW, LifecycleStatus.ENGAGED, "email:opened", "Opened at "),
        (LifecycleStatus.NEW, LifecycleStatus.ENGAGED, "email:clicked", "Clicked at")]
    assert story(folded) == story(direct) == [(2, 1, True, True, LifecycleStatus.ENGAGED),
                                              (0, 1, True, True, LifecycleStatus.ENGAGED),
                                              (0, 0, False, False, LifecycleStatus.NEW)]
