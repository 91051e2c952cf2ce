"""Stripe's webhook: signatures as Stripe makes them, each event once, payments into conversions.

Headers are made by the official stripe library's own signing helper, and its verifier is asked about the
same requests, so crm.stripe_signature is checked against Stripe's code rather than against itself.
"""

import json
import time
from decimal import Decimal

import pytest
import stripe
from django.urls import reverse

from crm.models import Contact, EngagementEvent, StripeEvent
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_5f0a8c1e2b"
URL = reverse("crm:stripe-events")


@pytest.fixture(autouse=True)
def stripe_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.CRM_VALUE_TIER_THRESHOLDS = "100,500,2000"


def stripe_header(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=timestamp)


def stripe_accepts(body: bytes, header: str) -> bool:
    try:
        return stripe.WebhookSignature.verify_header(body, header, SECRET, tolerance=300)
    except stripe.SignatureVerificationError:
        return False


def post(client, event: dict, **signing):
    body = json.dumps(event).encode()
    return client.post(URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=stripe_header(body, **signing))


def invoice_paid(event_id="evt_1", *, email="ann@acme.io", customer="cus_A", amount=4999, currency="eur"):
    return {
        "id": event_id,
        "object": "event",
        "type": "invoice.paid",
        "data": {
            "object": {
                "id": f"in_{event_id}",
                "object": "invoice",
                "customer": customer,
                "customer_email": email,
                "amount_paid": amount,
                "currency": currency,
            }
        },
    }


def test_valid_signature_records_the_payment_as_a_conversion(client):
    response = post(client, invoice_paid())
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "applied"}
    contact = Contact.objects.get(email="ann@acme.io")
    assert contact.stripe_customer_id == "cus_A"
    assert contact.source == "stripe"
    event = EngagementEvent.objects.get(contact=contact)
    assert (event.kind, event.value, event.detail["currency"]) == ("converted", Decimal("49.99"), "eur")
    assert contact.lifecycle_status == "converted"


def test_flipped_signature_is_refused(client):
    body = json.dumps(invoice_paid()).encode()
    header = stripe_header(body)
    flipped = header[:-1] + ("0" if header[-1] != "0" else "1")
    assert stripe_accepts(body, header) and not stripe_accepts(body, flipped)
    response = client.post(URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=flipped)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not EngagementEvent.objects.exists() and not Contact.objects.exists()


def test_changed_body_is_refused(client):
    body = json.dumps(invoice_paid()).encode()
    header = stripe_header(body)
    tampered = body.replace(b"4999", b"9999")
    assert not stripe_accepts(tampered, header)
    assert client.post(URL, tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header).status_code == 400


def test_old_timestamp_is_refused(client):
    body = json.dumps(invoice_paid()).encode()
    assert not stripe_accepts(body, stripe_header(body, timestamp=int(time.time()) - 301))
    response = post(client, invoice_paid(), timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert "tolerance" in response.json()["message"]
    assert not EngagementEvent.objects.exists()


def test_wrong_secret_is_refused(client):
    body = json.dumps(invoice_paid()).encode()
    assert not stripe_accepts(body, stripe_header(body, secret="whsec_someone_else"))
    assert post(client, invoice_paid(), secret="whsec_someone_else").status_code == 400
    assert not StripeEvent.objects.exists()


def test_missing_header_and_unset_secret_are_refused(client, settings):
    body = json.dumps(invoice_paid()).encode()
    assert client.post(URL, body, content_type="application/json").status_code == 400
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert post(client, invoice_paid(), secret="").status_code == 400


def test_replayed_event_counts_once(client):
    assert post(client, invoice_paid()).json() == {"status": "applied"}
    # The same event again, freshly signed (Stripe's retry) and byte for byte (a replay within the tolerance).
    assert post(client, invoice_paid()).json() == {"status": "ignored"}
    assert EngagementEvent.objects.count() == 1
    assert StripeEvent.objects.count() == 1
    assert Contact.objects.get().lifetime_value == Decimal("49.99")


def test_one_of_several_v1_signatures_may_match(client):
    body = json.dumps(invoice_paid()).encode()
    good = stripe_header(body)
    t = good.split(",")[0]
    header = f"{t},v1={'0' * 64},{good.split(',')[1]},v0=ignored"
    assert client.post(URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header).json() == {
        "status": "applied"
    }


def test_customer_created_matches_an_existing_contact_by_email(client):
    contact = ContactFactory(email="bob@acme.io")
    event = {
        "id": "evt_c",
        "type": "customer.created",
        "data": {"object": {"id": "cus_B", "object": "customer", "email": "Bob@Acme.io", "name": "Bob Stone"}},
    }
    assert post(client, event).json() == {"status": "applied"}
    contact.refresh_from_db()
    assert contact.stripe_customer_id == "cus_B"
    assert Contact.objects.count() == 1


def test_customer_created_for_a_new_email_creates_the_contact(client):
    event = {
        "id": "evt_c",
        "type": "customer.created",
        "data": {"object": {"id": "cus_C", "email": "cy@new.io", "name": "Cy Young"}},
    }
    post(client, event)
    contact = Contact.objects.get(email="cy@new.io")
    assert (contact.first_name, contact.last_name, contact.stripe_customer_id) == ("Cy", "Young", "cus_C")
    assert not EngagementEvent.objects.filter(contact=contact).exists()


def test_payment_by_customer_id_finds_the_contact_whatever_the_email(client):
    contact = ContactFactory(email="dee@acme.io", stripe_customer_id="cus_D")
    post(client, invoice_paid(email="billing@acme.io", customer="cus_D"))
    assert EngagementEvent.objects.get().contact == contact
    assert not Contact.objects.filter(email="billing@acme.io").exists()


def test_checkout_session_paid_counts_and_unpaid_does_not(client):
    def session(event_id, status):
        return {
            "id": event_id,
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": f"cs_{event_id}",
                    "customer": None,
                    "customer_details": {"email": "eve@acme.io"},
                    "amount_total": 1200,
                    "currency": "jpy",
                    "payment_status": status,
                    "mode": "payment",
                }
            },
        }

    post(client, session("evt_unpaid", "unpaid"))
    assert not EngagementEvent.objects.exists()
    post(client, session("evt_paid", "paid"))
    # Yen has no minor unit: 1200 is 1200 yen.
    assert EngagementEvent.objects.get().value == Decimal("1200")


def test_refund_subtracts_only_what_it_adds(client):
    post(client, invoice_paid(amount=10000))

    def refunded(event_id, total, before):
        return {
            "id": event_id,
            "type": "charge.refunded",
            "data": {
                "object": {
                    "id": "ch_1",
                    "customer": "cus_A",
                    "amount_refunded": total,
                    "currency": "eur",
                    "billing_details": {"email": "ann@acme.io"},
                },
                "previous_attributes": {"amount_refunded": before},
            },
        }

    post(client, refunded("evt_r1", 2500, 0))
    post(client, refunded("evt_r2", 4000, 2500))
    values = sorted(EngagementEvent.objects.values_list("value", flat=True))
    assert values == [Decimal("-25.00"), Decimal("-15.00"), Decimal("100.00")]
    assert Contact.objects.get().lifetime_value == Decimal("60.00")


def test_unhandled_type_is_acknowledged_and_bad_json_refused(client):
    assert post(client, {"id": "evt_x", "type": "payout.paid", "data": {"object": {}}}).json() == {"status": "ignored"}
    body = b"not json"
    assert (
        client.post(URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=stripe_header(body)).status_code
        == 400
    )


def test_payment_moves_the_value_tier(client):
    post(client, invoice_paid("evt_1", amount=5000))
    assert Contact.objects.get().value_tier == "bronze"
    post(client, invoice_paid("evt_2", amount=30000))
    assert Contact.objects.get().value_tier == "silver"
    post(client, invoice_paid("evt_3", amount=200000))
    assert Contact.objects.get().value_tier == "platinum"
