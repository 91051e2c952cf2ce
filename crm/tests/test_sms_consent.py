"""SMS consent: Twilio's inbound webhook (STOP, START, HELP) signed as Twilio signs it, and the contact page.

The signatures here are made by `reference_signature`, written from Twilio's documentation apart from
gateways.twilio_signature, and that reference is pinned to the example Twilio publishes, so the view is
not checked against its own code.
"""

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from crm.models import SmsConsent
from crm.tests.factories import ContactFactory
from gateways.capabilities import Capability
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db
TOKEN = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
BASE = "https://aicmo.example"
PATH = reverse("crm:sms-inbound")


def reference_signature(token: str, url: str, form: dict[str, str]) -> str:
    """Twilio: take the full URL, append each POST variable's name and value sorted by name, HMAC-SHA1
    with the auth token, base64."""
    data = url
    for name in sorted(form):
        data += f"{name}{form[name]}"
    digest = hmac.new(token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def test_the_reference_gives_twilios_published_example():
    form = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
            "To": "+18005551212"}
    assert reference_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form) == \
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@pytest.fixture(autouse=True)
def twilio_account(settings):
    settings.PUBLIC_BASE_URL = BASE
    return ProviderAccountFactory(capability=Capability.SMS_SENDING, adapter="twilio", name="twilio",
                                  settings={"account_sid": "AC0123456789abcdef0123456789abcdef",
                                            "from_number": "+15005550006"},
                                  credentials={"auth_token": TOKEN})


def inbound(number="+447700900123", body="STOP") -> dict[str, str]:
    return {"MessageSid": "SM9f8e7d6c5b4a39281706f5e4d3c2b1a0", "AccountSid": "AC0123456789abcdef0123456789abcdef",
            "From": number, "To": "+15005550006", "Body": body, "NumMedia": "0", "NumSegments": "1"}


def post(client, form: dict, *, token: str = TOKEN, signature: str | None = None):
    header = reference_signature(token, BASE + PATH, form) if signature is None else signature
    return client.post(PATH, urlencode(form), content_type="application/x-www-form-urlencoded",
                       HTTP_X_TWILIO_SIGNATURE=header)


@pytest.mark.parametrize("word", ["STOP", "stopall", " Unsubscribe ", "CANCEL", "End", "QUIT"])
def test_an_opt_out_keyword_opts_the_contact_out(client, word):
    contact = ContactFactory(phone="+44 7700 900123")

    response = post(client, inbound(body=word))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml") and b"<Response></Response>" in response.content
    consent = SmsConsent.objects.get()
    assert (consent.number, consent.consent, consent.contact) == ("+447700900123", "opted_out", contact)
    assert consent.source == f"Replied {word.strip().upper()} to +15005550006"


@pytest.mark.parametrize("word", ["START", "yes", "UNSTOP"])
def test_an_opt_in_keyword_opts_back_in(client, word):
    post(client, inbound(body="STOP"))

    assert post(client, inbound(body=word)).status_code == 200

    assert SmsConsent.objects.get().consent == "opted_in"


def test_a_stop_from_a_number_no_contact_holds_is_kept_for_later(client):
    post(client, inbound(number="+15551230000"))

    consent = SmsConsent.objects.get()
    assert consent.contact is None and consent.consent == "opted_out"


def test_help_is_answered_with_the_teams_text_and_changes_nothing(client, settings):
    settings.SMS_HELP_REPLY = "Acme offers & news. Reply STOP to stop."

    response = post(client, inbound(body="help"))

    assert b"<Message>Acme offers &amp; news. Reply STOP to stop.</Message>" in response.content
    assert not SmsConsent.objects.exists()


def test_any_other_message_changes_nothing(client):
    assert post(client, inbound(body="Please stop sending me these")).status_code == 200
    assert not SmsConsent.objects.exists()


def test_a_replayed_stop_changes_nothing_more(client):
    post(client, inbound())
    first = SmsConsent.objects.get()

    assert post(client, inbound()).status_code == 200

    again = SmsConsent.objects.get()
    assert (again.pk, again.consent) == (first.pk, "opted_out")


def test_a_flipped_signature_is_refused(client):
    good = reference_signature(TOKEN, BASE + PATH, inbound())
    flipped = ("A" if good[0] != "A" else "B") + good[1:]

    response = post(client, inbound(), signature=flipped)

    assert response.status_code == 403 and response.json()["code"] == "invalid_signature"
    assert not SmsConsent.objects.exists()


def test_a_changed_form_is_refused(client):
    signature = reference_signature(TOKEN, BASE + PATH, inbound(body="HELLO"))
    assert post(client, inbound(body="STOP"), signature=signature).status_code == 403
    assert not SmsConsent.objects.exists()


def test_a_signature_for_another_url_is_refused(client):
    signature = reference_signature(TOKEN, "https://elsewhere.example" + PATH, inbound())
    assert post(client, inbound(), signature=signature).status_code == 403


def test_a_wrong_token_or_no_signature_is_refused(client):
    assert post(client, inbound(), token="0" * 32).status_code == 403
    assert client.post(PATH, urlencode(inbound()), content_type="application/x-www-form-urlencoded").status_code == 403
    assert not SmsConsent.objects.exists()


def test_with_no_sms_account_every_request_is_refused(client, twilio_account):
    twilio_account.delete()
    response = post(client, inbound())
    assert response.status_code == 403 and "no Twilio auth token" in response.json()["message"]


def test_the_previous_token_still_verifies_while_it_is_rolled_over(client, twilio_account):
    from gateways import services as gateways
    gateways.account_update(account=twilio_account, credentials={"auth_token": "f" * 32, "previous_auth_token": TOKEN})

    assert post(client, inbound()).status_code == 200
    assert post(client, inbound(), token="f" * 32).status_code == 200


@pytest.fixture
def marketer(client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    return client


def test_the_contact_page_shows_and_records_sms_consent(marketer):
    contact = ContactFactory(phone="+44 7700 900123")
    url = reverse("crm:contact-detail", args=[contact.pk])
    assert "never asked" in marketer.get(url).content.decode()

    response = marketer.post(reverse("crm:contact-sms-consent", args=[contact.pk]),
                             {"status": "opted_in", "source": "Signed up at the stand"}, follow=True)

    page = response.content.decode()
    assert "SMS consent recorded: opted in." in page and "Signed up at the stand" in page
    consent = SmsConsent.objects.get()
    assert (consent.number, consent.consent, consent.contact) == ("+447700900123", "opted_in", contact)


def test_a_phone_without_country_code_cannot_be_opted_in(marketer):
    contact = ContactFactory(phone="07700 900123")
    page = marketer.get(reverse("crm:contact-detail", args=[contact.pk])).content.decode()
    assert "no international phone number" in page

    response = marketer.post(reverse("crm:contact-sms-consent", args=[contact.pk]),
                             {"status": "opted_in", "source": "call"}, follow=True)

    assert "internationally" in response.content.decode() and not SmsConsent.objects.exists()


def test_erasure_removes_the_numbers_consent_and_the_export_lists_it(make_user):
    from crm.privacy import contact_access_export, contact_erase

    contact = ContactFactory(phone="+44 7700 900123")
    sms_consent = SmsConsent.objects.create(number="+447700900123", contact=contact, consent="opted_in",
                                            source="Signed up", changed_at=contact.created_at)
    assert contact_access_export(contact)["sms_consents"] == [
        {"number": "+447700900123", "consent": "opted_in", "source": "Signed up",
         "at": sms_consent.changed_at.isoformat()}]

    contact_erase(contact=contact, by=make_user("dpo"), confirm=contact.email)

    assert not SmsConsent.objects.exists()
