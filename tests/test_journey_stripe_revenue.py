"""A campaign email is clicked, the person pays through Stripe: the payment is that campaign's revenue
on the analytics attribution page and API, and the person's value tier moves.

Real parts: the public click-tracking endpoint, Stripe's webhook endpoint with a header made by the
official stripe library's signing helper, the analytics page and API.
"""

import json
from decimal import Decimal

import pytest
import stripe
from django.utils import timezone

from crm.models import Contact
from publishing.email.models import EmailLink
from publishing.email.services.tracking import fold_tracking_hits
from publishing.email.tokens import make_token
from publishing.tests.email.factories import EmailDeliveryFactory

pytestmark = pytest.mark.django_db
SECRET = "whsec_journey_91c2"


def signed_post(client, event: dict):
    body = json.dumps(event).encode()
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
    return client.post("/contacts/stripe/events/", body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header)


def test_stripe_payment_after_a_campaign_click_is_that_campaigns_revenue(client, settings, make_user):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.CRM_VALUE_TIER_THRESHOLDS = "100,1000,5000"
    delivery = EmailDeliveryFactory(campaign__name="Winter sale", contact__email="pat@shop.example")
    link = EmailLink.objects.create(campaign_id=delivery.campaign_id, url="https://shop.example/buy", url_hash="b1")
    assert client.get(f"/t/c/{make_token('click', delivery.pk, link.pk)}").status_code == 302
    fold_tracking_hits()

    paid = {"id": "evt_pay_1", "type": "invoice.paid", "data": {"object": {
        "id": "in_1", "customer": "cus_P", "customer_email": "PAT@shop.example", "amount_paid": 125000,
        "currency": "usd"}}}
    assert signed_post(client, paid).json() == {"status": "applied"}

    contact = Contact.objects.get(pk=delivery.contact_id)
    assert (contact.lifetime_value, contact.value_tier, contact.stripe_customer_id) == (
        Decimal("1250.00"), "gold", "cus_P")

    client.force_login(make_user("ana", role="Analyst"))
    today = timezone.localdate().isoformat()
    report = client.get(f"/api/analytics/attribution/?model=last_touch&start={today}&end={today}").json()
    row = next(r for r in report["rows"] if r["campaign"] == "Winter sale")
    assert Decimal(str(row["revenue"])) == Decimal("1250.00")
    assert row["channel"] == "email"
    page = client.get(f"/analytics/attribution/?model=last_touch&start={today}&end={today}").content.decode()
    assert "Winter sale" in page and "1250" in page.replace(",", "")

    refund = {"id": "evt_refund_1", "type": "charge.refunded", "data": {
        "object": {"id": "ch_1", "customer": "cus_P", "amount_refunded": 50000, "currency": "usd"},
        "previous_attributes": {"amount_refunded": 0}}}
    assert signed_post(client, refund).json() == {"status": "applied"}
    contact.refresh_from_db()
    assert (contact.lifetime_value, contact.value_tier) == (Decimal("750.00"), "silver")
    report = client.get(f"/api/analytics/attribution/?model=last_touch&start={today}&end={today}").json()
    assert Decimal(str(report["revenue"])) == Decimal("750.00")
    # The refund takes revenue back from the campaign but is not a second conversion.
    assert report["conversions"] == 1
    row = next(r for r in report["rows"] if r["campaign"] == "Winter sale")
    assert (row["conversions"], Decimal(str(row["revenue"]))) == (1, Decimal("750.00"))
