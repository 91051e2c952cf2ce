"""Subscription forms: each protection of the public endpoint, double opt-in and its consent record, the
confirmation email's exactly-once outbox, and the back-office pages and API."""

import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django_q.models import OrmQ

from aicmo_site.errors import DomainError
from crm import selectors, services
from crm.choices import ConsentStatus, EventKind, LifecycleStatus, SuppressionKind, SuppressionReason
from crm.form_models import FormSubmission
from crm.models import Contact, EngagementEvent, Suppression
from crm.privacy import contact_erase
from crm.services import forms as form_services
from crm.tests.factories import ContactFactory, ContactListFactory, TagFactory
from gateways import services as gateway_services
from gateways.capabilities import Capability
from gateways.errors import OutcomeUnknown

pytestmark = pytest.mark.django_db
SITE = "https://www.shop.example"
CONSENT = "I agree to receive the monthly newsletter. I can unsubscribe at any time."


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def newsletter():
    ai = services.topic_create(name="AI", slug="ai")
    services.topic_create(name="Retail", slug="retail")
    return services.form_create(name="Newsletter", fields=["first_name", "company"], required_fields=["first_name"],
                                custom_fields=[{"key": "team-size", "label": "Team size"}], topics=[ai],
                                tags=[TagFactory(name="newsletter")], consent_text=CONSENT,
                                allowed_origins=[SITE], min_seconds=3)


def aged_token(form, seconds: float) -> str:
    """A render token as if the form had been shown `seconds` ago."""
    return signing.dumps({"f": form.pk, "t": int(time.time() - seconds)}, salt=form_services.RENDER_SALT,
                         compress=True)


def post(form, *, origin=SITE, token=None, ip="203.0.113.5", **fields):
    data = {"email": "ada@example.org", "first_name": "Ada", "token": token or aged_token(form, 10), **fields}
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    return Client().post(f"/f/{form.slug}/submit/", data, HTTP_ACCEPT="application/json", REMOTE_ADDR=ip,
                         HTTP_USER_AGENT="Firefox/140", **headers)


def test_a_submission_is_pending_not_emailable_and_queues_one_confirmation(newsletter,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(newsletter, topics=["ai"], company="Analytical Engines", **{"custom_team-size": "4"})
    assert response.status_code == 200, response.json()
    assert response.json()["detail"] == form_services.CHECK_INBOX
    assert response["Access-Control-Allow-Origin"] == SITE
    contact = Contact.objects.get(email="ada@example.org")
    assert contact.consent_status == ConsentStatus.PENDING
    assert contact.first_name == "Ada" and contact.custom_fields == {"company": "Analytical Engines", "team-size": "4"}
    assert not selectors.contact_is_emailable(contact)
    submission = FormSubmission.objects.get()
    assert (submission.ip, submission.user_agent, submission.origin) == ("203.0.113.5", "Firefox/140", SITE)
    assert submission.consent_text == CONSENT and submission.topics == ["ai"] and submission.confirmed_at is None
    event = EngagementEvent.objects.get(contact=contact, kind=EventKind.FORM_SUBMIT)
    assert event.detail["form_id"] == newsletter.pk and event.detail["submission_id"] == submission.pk
    # After the commit: the confirmation task, and the event's event_recorded signal (journeys awaiting it).
    assert len(callbacks) == 2
    assert OrmQ.objects.count() == 1  # one task: the confirmation (no journey awaits Ada)


def test_confirming_subscribes_keeps_the_consent_record_and_twice_is_harmless(newsletter):
    post(newsletter, topics=["ai"])
    submission = FormSubmission.objects.get()
    services.form_update(form=newsletter, consent_text="A different text, written later.")
    token = form_services.confirmation_token(submission)
    first = services.submission_confirm(token=token, ip="198.51.100.9", user_agent="Phone mail")
    again = services.submission_confirm(token=token, ip="192.0.2.1", user_agent="Other")
    assert first.confirmed_at == again.confirmed_at
    submission.refresh_from_db()
    assert (submission.confirmed_ip, submission.confirmed_user_agent) == ("198.51.100.9", "Phone mail")
    assert submission.consent_text == CONSENT, "the record keeps the text shown, not the form's current one"
    contact = submission.contact
    contact.refresh_from_db()
    assert contact.consent_status == ConsentStatus.SUBSCRIBED and selectors.contact_is_emailable(contact)
    assert [topic.slug for topic in contact.topics.all()] == ["ai"]
    assert [tag.name for tag in contact.tags.all()] == ["newsletter"]
    assert EngagementEvent.objects.filter(contact=contact, kind=EventKind.SUBSCRIPTION_CONFIRMED).count() == 1


def test_a_confirmed_subscriber_is_put_on_the_form_s_lists_and_a_pending_one_is_not(newsletter, marketer):
    readers = ContactListFactory(name="Readers")
    answer = marketer.patch(f"/api/forms/{newsletter.pk}/", {"lists": ["Readers"]}, format="json")
    assert answer.status_code == 200 and answer.data["lists"] == ["Readers"], answer.data
    post(newsletter)
    submission = FormSubmission.objects.get()
    assert not readers.members.exists()
    services.submission_confirm(token=form_services.confirmation_token(submission), ip="198.51.100.9")
    assert list(readers.members.values_list("email", flat=True)) == ["ada@example.org"]
    assert marketer.patch(f"/api/forms/{newsletter.pk}/", {"lists": ["Nope"]}, format="json").status_code == 400


def test_a_confirmation_link_expires_and_a_forged_one_is_refused(newsletter, settings):
    post(newsletter)
    submission = FormSubmission.objects.get()
    with pytest.raises(DomainError) as forged:
        services.submission_confirm(token=form_services.confirmation_token(submission) + "x", ip=None)
    assert forged.value.status_code == 404
    settings.CRM_FORM_CONFIRM_MAX_AGE = 60
    old = signing.TimestampSigner(salt=form_services.CONFIRM_SALT)
    token = old.sign_object(submission.pk)
    assert services.submission_confirm(token=token, ip=None).confirmed_at is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: 4_000_000_000.0)
        with pytest.raises(DomainError) as expired:
            form_services.submission_from_token(token)
    assert expired.value.status_code == 410


def test_a_forged_or_foreign_token_is_refused(newsletter):
    other = services.form_create(name="Other", consent_text=CONSENT, allowed_origins=[SITE])
    assert post(newsletter, token="forged").status_code == 403
    assert post(newsletter, token=aged_token(other, 10)).status_code == 403
    expired = aged_token(newsletter, 2 * 86400)
    assert post(newsletter, token=expired).json()["code"] == "expired_form_token"
    assert not FormSubmission.objects.exists() and not Contact.objects.exists()


def test_a_wrong_or_missing_origin_is_refused_without_cors(newsletter):
    wrong = post(newsletter, origin="https://evil.example")
    assert wrong.status_code == 403 and "Access-Control-Allow-Origin" not in wrong
    assert post(newsletter, origin=None).status_code == 403
    assert Client().get(f"/f/{newsletter.slug}/token/", HTTP_ORIGIN="https://evil.example").status_code == 403
    assert not FormSubmission.objects.exists()


def test_the_hosted_page_posts_from_its_own_origin_and_an_embed_fetches_its_token(newsletter):
    page = Client().get(f"/f/{newsletter.slug}/")
    assert page.status_code == 200 and CONSENT in page.content.decode()
    token = page.context["token"]
    assert form_services._token_age(newsletter, token) < 5
    sent = post(newsletter, origin="http://testserver", token=aged_token(newsletter, 10))
    assert sent.status_code == 200 and sent["Access-Control-Allow-Origin"] == "http://testserver"
    fetched = Client().get(f"/f/{newsletter.slug}/token/", HTTP_ORIGIN=SITE)
    assert fetched["Access-Control-Allow-Origin"] == SITE and fetched.json()["token"]
    preflight = Client().options(f"/f/{newsletter.slug}/submit/", HTTP_ORIGIN=SITE)
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Methods"] == "POST"


def test_a_honeypot_hit_and_a_too_fast_post_look_sent_but_store_nothing(newsletter):
    trapped = post(newsletter, website="http://spam.example")
    too_fast = post(newsletter, token=aged_token(newsletter, 1))
    for response in (trapped, too_fast):
        assert response.status_code == 200 and response.json()["detail"] == form_services.CHECK_INBOX
    assert not FormSubmission.objects.exists() and not Contact.objects.exists()


def test_too_many_sendings_per_address_or_per_ip_get_a_429(newsletter, settings):
    settings.CRM_FORM_RATE_PER_EMAIL = 2
    settings.CRM_FORM_RATE_PER_IP = 3
    assert [post(newsletter).status_code for _ in range(3)] == [200, 200, 429]
    limited = post(newsletter)
    assert limited.json()["code"] == "rate_limited" and limited["Access-Control-Allow-Origin"] == SITE
    cache.clear()
    codes = [post(newsletter, email=f"p{n}@example.org", ip="198.51.100.1").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
    assert post(newsletter, email="other@example.org", ip="198.51.100.2").status_code == 200


def test_bad_fields_are_400_with_field_errors(newsletter):
    response = post(newsletter, email="not-an-address", first_name="", topics=["retail"])
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email"}
    response = post(newsletter, first_name="", topics=["retail"])
    assert response.json()["fields"] == {"first_name": ["This field is required."],
                                         "topics": ["Choose among the topics offered."]}
    page = Client().post(f"/f/{newsletter.slug}/submit/", {"email": "x", "token": aged_token(newsletter, 10)},
                         HTTP_ORIGIN="http://testserver")
    assert page.status_code == 400 and "Enter a valid email address." in page.content.decode()


def test_a_suppressed_address_is_told_politely_and_never_subscribed(newsletter):
    Suppression.objects.create(kind=SuppressionKind.EMAIL, value="ada@example.org",
                               reason=SuppressionReason.UNSUBSCRIBED)
    contact = ContactFactory(email="ada@example.org", consent_status=ConsentStatus.UNSUBSCRIBED)
    response = post(newsletter)
    assert response.status_code == 200 and response.json()["detail"] == form_services.NOT_ADDED
    assert "suppress" not in response.json()["detail"].lower()
    contact.refresh_from_db()
    assert contact.consent_status == ConsentStatus.UNSUBSCRIBED and not FormSubmission.objects.exists()
    Suppression.objects.create(kind=SuppressionKind.DOMAIN, value="blocked.example", reason=SuppressionReason.MANUAL)
    assert post(newsletter, email="bo@blocked.example").json()["detail"] == form_services.NOT_ADDED


def test_a_pending_address_suppressed_before_its_link_is_not_subscribed(newsletter):
    post(newsletter)
    submission = FormSubmission.objects.get()
    services.suppression_add(value="ada@example.org", reason=SuppressionReason.COMPLAINED, source="test")
    with pytest.raises(DomainError, match="could not add this address"):
        services.submission_confirm(token=form_services.confirmation_token(submission), ip=None)
    assert Contact.objects.get().consent_status != ConsentStatus.SUBSCRIBED


def test_an_existing_subscriber_keeps_consent_and_known_fields(newsletter):
    contact = ContactFactory(email="ada@example.org", first_name="Augusta", consent_status=ConsentStatus.SUBSCRIBED)
    post(newsletter, first_name="Ada")
    contact.refresh_from_db()
    assert contact.consent_status == ConsentStatus.SUBSCRIBED and contact.first_name == "Augusta"


def test_without_double_opt_in_the_sending_is_the_consent(newsletter):
    services.form_update(form=newsletter, double_opt_in=False, thank_you_message="Welcome aboard!")
    response = post(newsletter, topics=["ai"])
    assert response.json()["detail"] == "Welcome aboard!"
    submission = FormSubmission.objects.get()
    assert submission.confirmed_at is not None and submission.contact.consent_status == ConsentStatus.SUBSCRIBED


def test_the_confirmation_email_goes_once_even_when_the_task_runs_twice(newsletter, smtp_server):
    gateway_services.account_create(capability=Capability.EMAIL_SENDING, adapter="smtp", name="smtp-test",
                                    priority=10, settings=smtp_server.adapter_settings(from_email="news@aicmo.example"))
    post(newsletter)
    submission = FormSubmission.objects.get()
    assert services.form_confirmation_send(submission_id=submission.pk) is True
    assert services.form_confirmation_send(submission_id=submission.pk) is False
    assert smtp_server.recipients() == ["ada@example.org"]
    body = smtp_server.messages[0].message().get_body(("plain",)).get_content()
    assert form_services.confirmation_url(submission).split("/f/confirm/")[0] in body
    token = body.split("/f/confirm/")[1].split("/")[0]
    assert services.submission_confirm(token=token, ip=None).confirmed_at is not None
    submission.refresh_from_db()
    assert submission.confirmation_sent_at and submission.confirmation_message_id


def test_a_refused_send_frees_the_claim_for_a_retry(newsletter):
    post(newsletter)
    submission = FormSubmission.objects.get()
    with pytest.raises(Exception, match="provider"):
        services.form_confirmation_send(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.confirmation_claimed_at is None and submission.confirmation_error


def test_form_building_refuses_bad_input(newsletter):
    with pytest.raises(DomainError) as clash:
        services.form_create(name="newsletter", consent_text=CONSENT)
    assert "name" in clash.value.extra["fields"]
    for bad in ({"allowed_origins": ["javascript:alert(1)"]}, {"redirect_url": "ftp://files.example/"},
                {"fields": ["password"]}, {"slug": "confirm"}, {"consent_text": ""},
                {"custom_fields": [{"key": "Bad Key", "label": "x"}]}):
        with pytest.raises(DomainError):
            services.form_create(**{"name": "Another", "consent_text": CONSENT, **bad})
    post(newsletter)
    with pytest.raises(DomainError, match="consent records"):
        services.form_delete(form=newsletter)


@pytest.fixture
def marketer(api_as):
    return api_as("Marketer")


def test_api_forms_crud_with_field_errors(marketer):
    services.topic_create(name="AI", slug="ai")
    TagFactory(name="newsletter")
    created = marketer.post("/api/forms/", {
        "name": "Webinar", "fields": ["first_name"], "topics": ["ai"], "tags": ["newsletter"],
        "consent_text": CONSENT, "allowed_origins": [SITE], "custom_fields": [{"key": "role", "label": "Role"}],
    }, format="json")
    assert created.status_code == 201, created.data
    assert created.data["slug"] == "webinar" and created.data["double_opt_in"] is True
    assert created.data["topics"] == ["ai"] and created.data["submission_count"] == 0
    changed = marketer.patch(f"/api/forms/{created.data['id']}/", {"redirect_url": "https://shop.example/thanks"},
                             format="json")
    assert changed.status_code == 200 and changed.data["redirect_url"] == "https://shop.example/thanks"
    bad = marketer.post("/api/forms/", {"name": "Bad", "consent_text": CONSENT,
                                        "allowed_origins": ["not an origin"]}, format="json")
    assert bad.status_code == 400 and "allowed_origins" in str(bad.data)
    assert marketer.delete(f"/api/forms/{created.data['id']}/").status_code == 204


def test_api_form_list_and_submissions_use_fixed_queries(marketer, newsletter, django_assert_num_queries):
    post(newsletter, email="a@example.org")
    marketer.get("/api/forms/")
    marketer.get(f"/api/forms/{newsletter.pk}/submissions/")
    with django_assert_num_queries(5):  # the count, the page, its topics, its tags, its lists
        assert marketer.get("/api/forms/").status_code == 200
    with django_assert_num_queries(3):  # the form, the count, the page
        assert marketer.get(f"/api/forms/{newsletter.pk}/submissions/").status_code == 200
    for n in range(5):
        services.form_create(name=f"Form {n}", consent_text=CONSENT, topics=[], tags=[TagFactory()])
        post(newsletter, email=f"p{n}@example.org", ip=f"198.51.100.{n}")
    with django_assert_num_queries(5):
        listed = marketer.get("/api/forms/")
    assert listed.data["count"] == 6
    with django_assert_num_queries(3):
        pending = marketer.get(f"/api/forms/{newsletter.pk}/submissions/?confirmed=false")
    assert pending.data["count"] == 6 and pending.data["results"][0]["consent_text"] == CONSENT


def test_pages_list_create_with_errors_and_show_the_unconfirmed(client, make_user, newsletter):
    make_user("mia", role="Marketer")
    client.force_login(make_user("mia2", role="Marketer"))
    post(newsletter, email="waiting@example.org")
    listing = client.get("/contacts/forms/?q=news")
    assert listing.status_code == 200 and "Newsletter" in listing.content.decode()
    refused = client.post("/contacts/forms/new/", {"name": "Newsletter", "consent_text": "", "min_seconds": 3,
                                                   "redirect_url": "ftp://x.example"})
    assert refused.status_code == 200
    errors = refused.context["page_form"].errors
    assert {"consent_text", "redirect_url"} <= set(errors)
    refused = client.post("/contacts/forms/new/", {"name": "Newsletter", "consent_text": CONSENT, "min_seconds": 3})
    assert "Already used by another form." in refused.content.decode()
    created = client.post("/contacts/forms/new/", {"name": "Webinar", "consent_text": CONSENT, "min_seconds": 3,
                                                   "double_opt_in": "on", "allowed_origins": SITE,
                                                   "custom_fields": "role: Your role"})
    assert created.status_code == 302
    detail = client.get(f"/contacts/forms/{newsletter.pk}/")
    html = detail.content.decode()
    assert "waiting@example.org" in html
    assert 'data-aicmo-form="http://testserver/f/newsletter/"' in detail.context["snippet"]
    assert "&lt;form method=&quot;post&quot;" in html, "the snippet is shown as text to copy"
    assert detail.context["subscription_form"].submission_count == 1


def test_erasure_scrubs_form_sendings_and_the_address_cannot_sign_up_again(newsletter, make_user):
    post(newsletter, **{"custom_team-size": "4"})
    contact = Contact.objects.get(email="ada@example.org")
    contact_erase(contact=contact, by=make_user("admin", role="Admin"), confirm="ada@example.org")
    record = FormSubmission.objects.get()
    assert "ada@example.org" not in str([record.email, record.answers, record.ip, record.user_agent])
    assert record.consent_text == CONSENT and record.submitted_at
    cache.clear()
    assert post(newsletter).json()["detail"] == form_services.NOT_ADDED
    assert FormSubmission.objects.count() == 1


class _TimedOutSession:
    """A provider that took the message and then went silent: whether it will deliver is unknown."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send(self, message):
        raise OutcomeUnknown("no answer after DATA", provider="smtp-test")


def test_an_outcome_unknown_is_never_sent_again_and_is_shown_as_such(newsletter, monkeypatch, client, make_user):
    post(newsletter)
    submission = FormSubmission.objects.get()
    monkeypatch.setattr(form_services, "open_email_session", _TimedOutSession)
    assert services.form_confirmation_send(submission_id=submission.pk) is False
    assert services.form_confirmation_send(submission_id=submission.pk) is False
    submission.refresh_from_db()
    assert submission.confirmation_claimed_at and not submission.confirmation_sent_at
    client.force_login(make_user("mia", role="Marketer"))
    assert "Outcome unknown, not sent again" in client.get(f"/contacts/forms/{newsletter.pk}/").content.decode()


def test_someone_who_left_and_confirms_again_is_emailable_again(newsletter):
    contact = ContactFactory(email="ada@example.org", consent_status=ConsentStatus.UNSUBSCRIBED,
                             lifecycle_status=LifecycleStatus.UNSUBSCRIBED)
    post(newsletter)
    services.submission_confirm(token=form_services.confirmation_token(FormSubmission.objects.get()), ip=None)
    contact.refresh_from_db()
    assert contact.lifecycle_status == LifecycleStatus.NEW and selectors.contact_is_emailable(contact)


def test_the_delete_button_asks_first_and_a_sent_form_is_kept(client, make_user, newsletter):
    client.force_login(make_user("mia", role="Marketer"))
    unsent = services.form_create(name="Unsent", consent_text=CONSENT)
    assert f'href="/contacts/forms/{unsent.pk}/delete/"' in client.get(f"/contacts/forms/{unsent.pk}/").content.decode()
    asked = client.get(f"/contacts/forms/{unsent.pk}/delete/").content.decode()
    assert "Delete the form “Unsent”?" in asked and 'id="form-delete-confirm"' in asked
    deleted = client.post(f"/contacts/forms/{unsent.pk}/delete/", follow=True)
    assert "Form “Unsent” deleted" in deleted.content.decode()
    assert not type(unsent).objects.filter(pk=unsent.pk).exists()

    post(newsletter)
    assert 'id="form-delete-refused"' in client.get(f"/contacts/forms/{newsletter.pk}/delete/").content.decode()
    refused = client.post(f"/contacts/forms/{newsletter.pk}/delete/", follow=True)
    assert "their consent records keep it" in refused.content.decode()
    assert type(newsletter).objects.filter(pk=newsletter.pk).exists()


def test_a_refused_confirmation_is_sent_again_from_the_page_once(newsletter, client, make_user, smtp_server,
                                                                 django_capture_on_commit_callbacks):
    post(newsletter)
    submission = FormSubmission.objects.get()
    with pytest.raises(Exception, match="provider"):
        services.form_confirmation_send(submission_id=submission.pk)  # no provider: the retries all fail so
    client.force_login(make_user("mia", role="Marketer"))
    page = client.get(f"/contacts/forms/{newsletter.pk}/").content.decode()
    assert 'value="resend">Send it again' in page
    gateway_services.account_create(capability=Capability.EMAIL_SENDING, adapter="smtp", name="smtp-test",
                                    priority=10, settings=smtp_server.adapter_settings(from_email="news@aicmo.example"))
    url = f"/contacts/forms/{newsletter.pk}/sendings/{submission.pk}/confirmation/"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url, {"op": "resend"}, follow=True)
    assert "is queued again" in answer.content.decode()
    assert OrmQ.objects.count() == 1
    assert services.form_confirmation_send(submission_id=submission.pk) is True
    assert smtp_server.recipients() == ["ada@example.org"]
    again = client.post(url, {"op": "resend"}, follow=True).content.decode()
    assert "Only a confirmation email that was not sent is sent again; this one is sent." in again


def test_an_unknown_confirmation_is_settled_through_the_api(newsletter, monkeypatch, marketer, smtp_server):
    post(newsletter)
    post(newsletter, email="bo@example.org", ip="198.51.100.7")
    ada, bo = FormSubmission.objects.order_by("pk")
    monkeypatch.setattr(form_services, "open_email_session", _TimedOutSession)
    for submission in (ada, bo):
        assert services.form_confirmation_send(submission_id=submission.pk) is False
    monkeypatch.undo()
    base = f"/api/forms/{newsletter.pk}/submissions"
    assert marketer.post(f"{base}/{ada.pk}/resend/").status_code == 409  # unknown: settle it, not resend
    assert marketer.post(f"{base}/{ada.pk}/reconcile/", {}, format="json").status_code == 400
    sent = marketer.post(f"{base}/{ada.pk}/reconcile/", {"sent": True}, format="json")
    assert sent.status_code == 200 and sent.data["confirmation_sent_at"], sent.data
    not_sent = marketer.post(f"{base}/{bo.pk}/reconcile/", {"sent": False}, format="json")
    assert not_sent.status_code == 200 and not not_sent.data["confirmation_sent_at"]
    gateway_services.account_create(capability=Capability.EMAIL_SENDING, adapter="smtp", name="smtp-test",
                                    priority=10, settings=smtp_server.adapter_settings(from_email="news@aicmo.example"))
    assert services.form_confirmation_send(submission_id=ada.pk) is False  # settled as sent: never again
    assert services.form_confirmation_send(submission_id=bo.pk) is True
    assert smtp_server.recipients() == ["bo@example.org"]
    assert marketer.post(f"{base}/{bo.pk}/reconcile/", {"sent": True}, format="json").status_code == 409


def test_a_claim_whose_lease_passed_without_an_answer_is_unknown():
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    stuck = FormSubmission(confirmation_claimed_at=now - timedelta(minutes=11))
    fresh = FormSubmission(confirmation_claimed_at=now - timedelta(seconds=5))
    assert form_services.confirmation_state(stuck, now) == "unknown"
    assert form_services.confirmation_state(fresh, now) == "sending"


def test_two_first_sendings_racing_the_loser_gets_a_409_and_keeps_nothing(newsletter, monkeypatch):
    real_create = form_services.contact_create

    def racing(**fields):
        # The winning sending's contact appears between this one's look-up and its insert.
        ContactFactory(email=fields["email"])
        return real_create(**fields)

    monkeypatch.setattr(form_services, "contact_create", racing)
    answer = post(newsletter)
    assert answer.status_code == 409 and answer.json()["detail"] == form_services.SENT_TWICE, answer.content
    assert not FormSubmission.objects.exists() and not OrmQ.objects.exists()  # no second confirmation


def test_the_unique_address_index_stopping_a_racing_sending_is_a_409(newsletter, monkeypatch):
    from django.db import IntegrityError

    def clash(**fields):
        raise IntegrityError("duplicate key value violates unique constraint on email")

    monkeypatch.setattr(form_services, "contact_create", clash)
    assert post(newsletter).status_code == 409
    assert not FormSubmission.objects.exists()


def test_the_embed_snippet_names_the_script_by_its_content_hash_in_production(newsletter, settings, tmp_path, rf):
    """Production's manifest storage (settings/production.py) names each static file by its content's hash,
    which WhiteNoise serves as immutable: a snippet pasted into a site picks up a changed script at once."""
    import json

    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.utils.functional import empty

    from crm.form_views import embed_snippet

    (tmp_path / "staticfiles.json").write_text(json.dumps(
        {"version": "1.1", "paths": {"crm/subscription-form.js": "crm/subscription-form.0123abcd4567.js"}}))
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    staticfiles_storage._wrapped = empty  # reloaded under the production backend
    try:
        snippet = embed_snippet(rf.get("/"), newsletter)
    finally:
        staticfiles_storage._wrapped = empty
    assert '<script src="http://testserver/static/crm/subscription-form.0123abcd4567.js" defer>' in snippet
