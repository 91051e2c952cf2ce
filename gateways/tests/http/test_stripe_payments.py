"""Stripe's list API (https://docs.stripe.com/api/pagination) replayed: cursor pages, the answers and
errors Stripe documents (https://docs.stripe.com/api/errors), and the balance call the self-check makes."""

from datetime import UTC, datetime

import pytest

from gateways.adapters.stripe_payments import STRIPE_VERSION, StripePaymentsAdapter
from gateways.capabilities import PaymentCharge, PaymentCustomer
from gateways.errors import ProviderUnavailable, RateLimited

SECRET_KEY = "sk_test_51Hx9aQ2eZvKYlo2C0x7b"
HEADERS = {"Authorization": f"Bearer {SECRET_KEY}", "Stripe-Version": STRIPE_VERSION}


def customer(n: int, email: str = "") -> dict:
    return {"id": f"cus_{n:04d}", "object": "customer", "created": 1700000000 + n, "email": email or None,
            "name": "Ann Lee" if email else None, "livemode": False}


def charge(charge_id="ch_3Ma", **fields) -> dict:
    return {
        "id": charge_id, "object": "charge", "amount": 4999, "amount_captured": 4999, "amount_refunded": 0,
        "billing_details": {"email": "ann@acme.io", "name": "Ann Lee"}, "created": 1700000500, "currency": "eur",
        "customer": "cus_0001", "invoice": None, "paid": True, "payment_intent": "pi_3Ma", "receipt_email": None,
        "refunded": False, "status": "succeeded", **fields,
    }


def listing(url: str, data: list, has_more: bool) -> dict:
    return {"object": "list", "url": url, "has_more": has_more, "data": data}


@pytest.fixture
def stripe(make_adapter):
    return make_adapter(StripePaymentsAdapter, credentials={"secret_key": SECRET_KEY})


def test_customers_are_read_page_after_page_from_the_last_id(stripe, httpserver):
    httpserver.expect_ordered_request("/v1/customers", method="GET", headers=HEADERS, query_string="limit=100") \
        .respond_with_json(listing("/v1/customers", [customer(1, "ann@acme.io"), customer(2)], True))
    httpserver.expect_ordered_request("/v1/customers", query_string="limit=100&starting_after=cus_0002") \
        .respond_with_json(listing("/v1/customers", [customer(3, "bo@acme.io")], False))

    first = stripe.list_customers()
    second = stripe.list_customers(after=first.cursor)

    assert first.has_more and first.cursor == "cus_0002"
    assert first.items[0] == PaymentCustomer(id="cus_0001", email="ann@acme.io", name="Ann Lee",
                                             created=datetime.fromtimestamp(1700000001, tz=UTC))
    assert first.items[1].email == ""
    assert not second.has_more and [c.id for c in second.items] == ["cus_0003"]


def test_charges_since_a_day_ask_for_created_gte(stripe, httpserver):
    since = datetime(2026, 1, 1, tzinfo=UTC)
    httpserver.expect_request("/v1/charges", headers=HEADERS,
                              query_string={"limit": "100", "created[gte]": str(int(since.timestamp()))}) \
        .respond_with_json(listing("/v1/charges", [
            charge(), charge("ch_3Mb", status="failed", paid=False, payment_intent={"id": "pi_3Mb"},
                             amount_captured=0, invoice="in_1", receipt_email="bo@acme.io")], False))

    page = stripe.list_charges(created_since=since)

    assert page.items[0] == PaymentCharge(id="ch_3Ma", amount=4999, currency="eur", succeeded=True,
                                          customer_id="cus_0001", email="ann@acme.io", name="Ann Lee",
                                          payment_intent="pi_3Ma", created=datetime.fromtimestamp(1700000500, tz=UTC))
    failed = page.items[1]
    assert not failed.succeeded and failed.payment_intent == "pi_3Mb" and failed.invoice == "in_1"
    assert failed.email == "bo@acme.io" and failed.amount == 4999


def test_a_wrong_key_is_unavailable_with_advice_and_the_key_never_shown(stripe, httpserver):
    httpserver.expect_request("/v1/customers").respond_with_json(
        {"error": {"message": f"Invalid API Key provided: {SECRET_KEY}", "type": "invalid_request_error"}},
        status=401)

    with pytest.raises(ProviderUnavailable) as caught:
        stripe.list_customers()

    assert caught.value.status == 401
    assert SECRET_KEY not in str(caught.value) and "[redacted]" in str(caught.value)
    assert "secret API key" in caught.value.advice


def test_a_rate_limit_says_when_to_come_back(stripe, httpserver):
    httpserver.expect_request("/v1/charges").respond_with_json(
        {"error": {"message": "Too many requests hit the API too quickly.", "type": "invalid_request_error",
                   "code": "rate_limit"}}, status=429, headers={"Retry-After": "2"})

    with pytest.raises(RateLimited) as caught:
        stripe.list_charges()

    assert caught.value.retry_after == pytest.approx(2)


def test_a_server_error_is_unavailable(stripe, httpserver):
    httpserver.expect_request("/v1/charges").respond_with_json(
        {"error": {"message": "An unknown error occurred", "type": "api_error"}}, status=500)

    with pytest.raises(ProviderUnavailable) as caught:
        stripe.list_charges()

    assert caught.value.status == 500 and not isinstance(caught.value, RateLimited)


def test_no_answer_in_time_is_unavailable(make_adapter, answers_late):
    url = answers_late("/v1/customers")
    adapter = make_adapter(StripePaymentsAdapter, credentials={"secret_key": SECRET_KEY},
                           base_url=url.removesuffix("/v1/customers"), timeout=0.3)

    with pytest.raises(ProviderUnavailable, match="no answer"):
        adapter.list_customers()


def test_an_answer_that_is_not_a_list_is_unavailable(stripe, httpserver):
    httpserver.expect_request("/v1/customers").respond_with_json({"object": "customer", "id": "cus_1"})

    with pytest.raises(ProviderUnavailable, match="not a list|other than a list"):
        stripe.list_customers()


def test_the_self_check_reads_the_balance(stripe, httpserver):
    httpserver.expect_request("/v1/balance", headers=HEADERS).respond_with_json({
        "object": "balance", "livemode": False,
        "available": [{"amount": 0, "currency": "eur", "source_types": {"card": 0}}],
        "pending": [{"amount": 0, "currency": "eur", "source_types": {"card": 0}}]})

    result = stripe.probe()

    assert result.ok and result.detail == "balance readable (test mode, EUR)"


def test_webhook_secrets_need_no_request_and_list_the_current_one_first(make_adapter):
    adapter = make_adapter(StripePaymentsAdapter, credentials={
        "webhook_signing_secret": "whsec_new", "previous_webhook_signing_secret": "whsec_old"})

    assert adapter.webhook_secrets() == ["whsec_new", "whsec_old"]
