"""`manage.py stripe_backfill` against a contract server replaying Stripe's list API, and the webhook's
secrets taken from the payments provider account.

Payments are counted once whichever way they arrive: a webhook event and a backfilled charge for the same
payment intent, or two backfills, add one conversion; a refund seen by both subtracts once.
"""

import json
import time
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from aicmo_site.models import BackgroundRun, RunKind, RunStatus
from crm.models import Contact, EngagementEvent
from crm.tests.factories import ContactFactory
from crm.tests.test_stripe import invoice_paid, stripe_header
from gateways.capabilities import Capability
from gateways.services import account_create

pytestmark = pytest.mark.django_db
SECRET_KEY = "sk_test_51Hx9aQ2eZvKYlo2C0x7b"
URL = reverse("crm:stripe-events")


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.CRM_VALUE_TIER_THRESHOLDS = "100,500,2000"
    settings.STRIPE_WEBHOOK_SECRET = ""


@pytest.fixture
def stripe_account(httpserver):
    return account_create(capability=Capability.PAYMENTS, adapter="stripe", name="stripe",
                          base_url=httpserver.url_for("/"), timeout_seconds=1.0,
                          credentials={"secret_key": SECRET_KEY, "webhook_signing_secret": "whsec_current",
                                       "previous_webhook_signing_secret": "whsec_previous"})


def listing(data: list, has_more: bool = False) -> dict:
    return {"object": "list", "url": "/v1/x", "has_more": has_more, "data": data}


def customer(customer_id: str, email: str | None, name: str | None = None) -> dict:
    return {"id": customer_id, "object": "customer", "email": email, "name": name, "created": 1700000000}


def charge(charge_id: str, *, customer="cus_A", amount=5000, refunded=0, status="succeeded", intent="",
           email="ann@acme.io", invoice=None) -> dict:
    return {"id": charge_id, "object": "charge", "amount": amount, "amount_captured": amount if status == "succeeded"
            else 0, "amount_refunded": refunded, "currency": "eur", "customer": customer, "paid": status ==
            "succeeded", "status": status, "payment_intent": intent or f"pi_{charge_id}", "invoice": invoice,
            "billing_details": {"email": email, "name": None}, "receipt_email": None, "created": 1700000500}


def serve(httpserver, *, customers: list[list[dict]], charges: list[list[dict]]) -> None:
    """Stripe's pages as `starting_after` asks for them; served for as many runs as a test makes."""
    for kind, pages in (("customers", customers), ("charges", charges)):
        after = None
        for n, page in enumerate(pages):
            query = {"limit": "100"} if after is None else {"limit": "100", "starting_after": after}
            httpserver.expect_request(f"/v1/{kind}", query_string=query,
                                      headers={"Authorization": f"Bearer {SECRET_KEY}"}) \
                .respond_with_json(listing(page, has_more=n < len(pages) - 1))
            after = page[-1]["id"] if page else None


def backfill(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("stripe_backfill", *args, stdout=out)
    return out.getvalue()


def values(contact_email: str) -> list[Decimal]:
    return sorted(EngagementEvent.objects.filter(contact__email=contact_email).values_list("value", flat=True))


def post(client, event: dict, secret: str):
    body = json.dumps(event).encode()
    return client.post(URL, body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=stripe_header(body, secret=secret))


def test_backfill_pages_through_customers_and_charges(stripe_account, httpserver):
    ContactFactory(email="ann@acme.io")
    serve(httpserver,
          customers=[[customer("cus_A", "Ann@Acme.io"), customer("cus_B", "bo@acme.io", "Bo Ek")],
                     [customer("cus_C", None)]],
          charges=[[charge("ch_1", amount=30000), charge("ch_2", status="failed")],
                   [charge("ch_3", customer="cus_B", email=None, amount=10000, refunded=2500)]])

    output = backfill()

    ann, bo = Contact.objects.get(email="ann@acme.io"), Contact.objects.get(email="bo@acme.io")
    assert (ann.stripe_customer_id, bo.stripe_customer_id, bo.first_name) == ("cus_A", "cus_B", "Bo")
    assert Contact.objects.count() == 2  # cus_C has no email: nothing to know it by
    assert values("ann@acme.io") == [Decimal("300.00")]
    assert values("bo@acme.io") == [Decimal("-25.00"), Decimal("100.00")]
    ann.refresh_from_db()
    bo.refresh_from_db()
    assert (ann.lifetime_value, ann.value_tier, bo.lifetime_value, bo.value_tier) == (
        Decimal("300.00"), "silver", Decimal("75.00"), "bronze")
    run = BackgroundRun.objects.get(kind=RunKind.STRIPE_BACKFILL)
    assert run.status == RunStatus.COMPLETED
    assert run.result == {"customers": 3, "contacts": 2, "charges": 3, "payments": 2, "refunds": 1, "pages": 4,
                          "rate_limit_waits": 0}
    assert run.done == 6
    assert "3 customers (2 matched to contacts), 3 charges: 2 payments and 1 refunds added" in output


def test_running_it_again_adds_nothing(stripe_account, httpserver):
    serve(httpserver, customers=[[customer("cus_A", "ann@acme.io")]],
          charges=[[charge("ch_1", refunded=1000), charge("ch_2", amount=7000)]])
    backfill()
    before = list(EngagementEvent.objects.order_by("pk").values_list("pk", "value"))

    output = backfill()

    assert list(EngagementEvent.objects.order_by("pk").values_list("pk", "value")) == before
    assert len(before) == 3
    assert "0 payments and 0 refunds added" in output
    assert BackgroundRun.objects.filter(kind=RunKind.STRIPE_BACKFILL, status=RunStatus.COMPLETED).count() == 2


def test_a_payment_from_the_webhook_then_the_backfill_counts_once(stripe_account, httpserver, client):
    session = {"id": "evt_cs", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_1", "customer": "cus_A", "customer_details": {"email": "ann@acme.io"}, "amount_total": 5000,
        "currency": "eur", "payment_status": "paid", "mode": "payment", "payment_intent": "pi_shared"}}}
    refund = {"id": "evt_r", "type": "charge.refunded", "data": {"object": {
        "id": "ch_1", "customer": "cus_A", "amount_refunded": 2000, "currency": "eur",
        "billing_details": {"email": "ann@acme.io"}}, "previous_attributes": {"amount_refunded": 0}}}
    assert post(client, session, "whsec_current").json() == {"status": "applied"}
    assert post(client, refund, "whsec_current").json() == {"status": "applied"}
    serve(httpserver, customers=[[customer("cus_A", "ann@acme.io")]],
          charges=[[charge("ch_1", intent="pi_shared", refunded=3000)]])

    backfill()

    # The payment once; the refund up to the charge's refunded total, not twice.
    assert values("ann@acme.io") == [Decimal("-20.00"), Decimal("-10.00"), Decimal("50.00")]
    assert Contact.objects.get().lifetime_value == Decimal("20.00")


def test_a_payment_from_the_backfill_then_the_webhook_counts_once(stripe_account, httpserver, client):
    serve(httpserver, customers=[[]], charges=[[charge("ch_1", intent="pi_inv", invoice="in_9", amount=4999)]])
    backfill()
    event = invoice_paid("evt_inv", amount=4999)
    event["data"]["object"].update(id="in_9", payment_intent=None)

    assert post(client, event, "whsec_current").json() == {"status": "applied"}

    assert values("ann@acme.io") == [Decimal("49.99")]


def test_since_asks_stripe_for_objects_created_from_that_day(stripe_account, httpserver):
    for kind in ("customers", "charges"):
        httpserver.expect_request(f"/v1/{kind}", query_string={"limit": "100", "created[gte]": "1767225600"}) \
            .respond_with_json(listing([]))

    backfill("--since", "2026-01-01")

    assert len(httpserver.log) == 2
    assert BackgroundRun.objects.get().label == "Stripe backfill since 2026-01-01"


def test_a_rate_limit_is_waited_out_for_its_retry_after(stripe_account, httpserver):
    httpserver.expect_ordered_request("/v1/customers").respond_with_json(
        {"error": {"message": "Too many requests hit the API too quickly.", "code": "rate_limit"}}, status=429,
        headers={"Retry-After": "1"})
    httpserver.expect_ordered_request("/v1/customers").respond_with_json(listing([customer("cus_A", "a@b.io")]))
    httpserver.expect_ordered_request("/v1/charges").respond_with_json(listing([charge("ch_1", email="a@b.io")]))
    started = time.monotonic()

    backfill()

    assert time.monotonic() - started >= 1.0
    run = BackgroundRun.objects.get()
    assert run.status == RunStatus.COMPLETED and run.result["rate_limit_waits"] >= 1
    assert values("a@b.io") == [Decimal("50.00")]


@pytest.mark.parametrize(("status", "body", "said"), [
    (401, {"error": {"message": f"Invalid API Key provided: {SECRET_KEY}", "type": "invalid_request_error"}},
     "answered 401"),
    (500, {"error": {"message": "An unknown error occurred", "type": "api_error"}}, "answered 500"),
])
def test_a_failure_stops_the_run_with_a_message_and_a_non_zero_exit(stripe_account, httpserver, status, body, said):
    httpserver.expect_ordered_request("/v1/customers", query_string={"limit": "100"}) \
        .respond_with_json(listing([customer("cus_A", "a@b.io")], True))
    httpserver.expect_ordered_request("/v1/customers", query_string={"limit": "100", "starting_after": "cus_A"}) \
        .respond_with_json(body, status=status)

    with pytest.raises(CommandError, match=said) as caught:
        backfill()

    assert SECRET_KEY not in str(caught.value)
    assert "So far: 1 customers (1 matched to contacts)" in str(caught.value)
    run = BackgroundRun.objects.get()
    assert run.status == RunStatus.FAILED and said in run.error
    assert run.result["customers"] == 1


def test_no_answer_in_time_fails_the_run(stripe_account, httpserver):
    httpserver.expect_request("/v1/customers").respond_with_handler(lambda request: time.sleep(1.5))

    with pytest.raises(CommandError, match="no answer"):
        backfill()

    assert BackgroundRun.objects.get().status == RunStatus.FAILED


def test_without_a_payments_account_the_command_says_what_to_do():
    with pytest.raises(CommandError, match="No payments provider account is enabled"):
        backfill()


def test_a_since_that_is_not_a_date_is_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        backfill("--since", "last week")
    assert not BackgroundRun.objects.exists()


@pytest.mark.parametrize("secret", ["whsec_current", "whsec_previous"])
def test_the_webhook_takes_either_secret_of_the_payments_account(stripe_account, client, secret):
    assert post(client, invoice_paid("evt_1"), secret).json() == {"status": "applied"}


def test_the_webhook_refuses_a_secret_the_account_does_not_hold(stripe_account, client):
    response = post(client, invoice_paid("evt_1"), "whsec_someone_else")
    assert response.status_code == 400 and response.json()["code"] == "invalid_signature"
    assert not EngagementEvent.objects.exists()


def test_the_environment_secret_remains_a_fallback(stripe_account, client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_from_env"
    assert post(client, invoice_paid("evt_1"), "whsec_from_env").status_code == 200


def test_a_page_that_comes_back_again_stops_the_run_instead_of_looping(stripe_account, httpserver):
    httpserver.expect_request("/v1/customers").respond_with_json(listing([customer("cus_A", "a@b.io")], True))

    with pytest.raises(CommandError, match="same page again"):
        backfill()

    # One request for the page after cus_A, which came back the same: the run stopped there. (Counting
    # every request would also count a first request retried by the HTTP client under load.)
    assert [request.args.get("starting_after") for request, _ in httpserver.log].count("cus_A") == 1
