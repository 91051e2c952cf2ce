"""Subscription forms: building them, taking what people send through them, and double opt-in.

A public form is posted from anywhere, so the protections live here, where the hosted page, the embed
snippet and any future caller share them: a signed render token (form id and render time) in place of
Django's CSRF cookie, which a page on another site cannot read; a honeypot field and a time trap whose
catches look sent to the bot but store nothing; and an hourly limit per address and per IP address.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django_q.tasks import async_task

from aicmo_site.audit import audit_operation
from aicmo_site.errors import ConflictError, DomainError
from crm import conf
from crm.choices import ConsentStatus, EventKind, LifecycleStatus, SuppressionKind
from crm.form_models import STANDARD_FIELDS, FormSubmission, SubscriptionForm
from crm.imports.validating import erasure_hash
from crm.models import Contact, ContactList, Suppression, Tag, Topic
from crm.rate_limits import over_hourly_limit
from crm.services.contacts import (
    contact_create,
    contact_transition_if_allowed,
    contacts_tag,
    email_domain,
    email_normalise,
)
from crm.services.engagement import contact_record_event
from crm.services.lists import contact_list_add
from gateways.capabilities import OutgoingEmail
from gateways.errors import GatewayError, OutcomeUnknown
from gateways.services import open_email_session

FORM_FIELDS = ("name", "slug", "fields", "required_fields", "custom_fields", "consent_text", "thank_you_message",
               "redirect_url", "double_opt_in", "allowed_origins", "min_seconds")
HONEYPOT = "website"
RENDER_SALT = "crm.subscription-form.render"
CONFIRM_SALT = "crm.subscription-form.confirm"
FORM_SOURCE = "form"
RESERVED_SLUGS = {"confirm"}  # /f/confirm/<token>/ is the double opt-in link
CHECK_INBOX = "Thank you. Please check your inbox: we sent you a link to confirm your subscription."
SUBSCRIBED = "Thank you, you are subscribed."
SENT_TWICE = ("This address was sent through the form a moment ago: please check your inbox rather than sending "
              "again.")
# Said to a suppressed or erased address, in the same words whatever the reason, so the answer tells a
# stranger typing someone else's address nothing about that person.
NOT_ADDED = ("Thank you. We could not add this address to our list. If you think this is a mistake, "
             "please write to us.")


@dataclass(frozen=True)
class SubmitResult:
    """What the person is told. `submission` is None when nothing was stored (a bot's catch, an address
    that may not be subscribed): the answer looks the same as a stored one."""

    message: str
    redirect_url: str = ""
    submission: FormSubmission | None = None


def _fields_error(fields: dict[str, list[str]], message: str = "Please correct the fields shown.") -> DomainError:
    return DomainError(message, code="invalid_submission", extra={"fields": fields})


def _clean_form(form: SubscriptionForm) -> None:
    form.slug = slugify(form.slug or form.name)[:60]
    if form.slug in RESERVED_SLUGS:
        raise _fields_error({"slug": [f"“{form.slug}” is kept for the site's own addresses."]})
    unknown = sorted(set(form.fields) - STANDARD_FIELDS.keys())
    if unknown:
        raise _fields_error({"fields": [f"Not a contact field: {', '.join(unknown)}."]})
    form.fields = [name for name in STANDARD_FIELDS if name in form.fields]
    form.required_fields = [name for name in form.fields if name in set(form.required_fields)]
    keys = [item.get("key", "") for item in form.custom_fields if isinstance(item, dict)]
    if len(keys) != len(form.custom_fields) or any(not key or slugify(key) != key for key in keys) \
            or len(set(keys)) != len(keys):
        raise _fields_error({"custom_fields": ["Each extra question needs a distinct key of letters, digits "
                                               "and dashes, and a label."]})
    origins = []
    for origin in form.allowed_origins:
        parts = urlsplit(str(origin).strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
                or parts.query or parts.fragment:
            raise _fields_error({"allowed_origins": [f"{origin!r} is not an origin like https://www.example.com."]})
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    form.allowed_origins = sorted(set(origins))
    if SubscriptionForm.objects.exclude(pk=form.pk).filter(name__iexact=form.name).exists():
        raise ConflictError("A form with this name exists already.", code="form_exists",
                            extra={"fields": {"name": ["Already used by another form."]}})
    clash = SubscriptionForm.objects.exclude(pk=form.pk).filter(slug=form.slug).values_list("name", flat=True).first()
    if clash:
        raise ConflictError("A form with this address exists already.", code="form_exists",
                            extra={"fields": {"slug": [f"Already used by {clash}."]}})
    try:
        form.full_clean(validate_unique=False, exclude=["created_by"])
    except ValidationError as error:
        raise _fields_error(error.message_dict) from error
    form.save()


@transaction.atomic
def form_create(*, by=None, topics: Iterable[Topic] = (), tags: Iterable[Tag] = (),
                lists: Iterable[ContactList] = (), **fields) -> SubscriptionForm:
    unknown = set(fields) - set(FORM_FIELDS)
    if unknown:
        raise DomainError(f"Unknown form fields: {', '.join(sorted(unknown))}.", code="invalid_fields")
    form = SubscriptionForm(created_by=by if getattr(by, "pk", None) else None, **fields)
    _clean_form(form)
    form.topics.set(topics)
    form.tags.set(tags)
    form.lists.set(lists)
    return form


@transaction.atomic
def form_update(*, form: SubscriptionForm, topics: Iterable[Topic] | None = None,
                tags: Iterable[Tag] | None = None, lists: Iterable[ContactList] | None = None,
                **fields) -> SubscriptionForm:
    unknown = set(fields) - set(FORM_FIELDS)
    if unknown:
        raise DomainError(f"Unknown form fields: {', '.join(sorted(unknown))}.", code="invalid_fields")
    for name, value in fields.items():
        setattr(form, name, value)
    _clean_form(form)
    if topics is not None:
        form.topics.set(topics)
    if tags is not None:
        form.tags.set(tags)
    if lists is not None:
        form.lists.set(lists)
    return form


@transaction.atomic
def form_delete(*, form: SubscriptionForm) -> None:
    """Refused once people sent it: their consent records name the form and must be kept."""
    if form.submissions.exists():
        raise ConflictError("People sent this form: their consent records keep it. Remove it from your site "
                            "instead.", code="form_has_submissions")
    form.delete()


def render_token(form: SubscriptionForm) -> str:
    return signing.dumps({"f": form.pk, "t": int(time.time())}, salt=RENDER_SALT, compress=True)


def _token_age(form: SubscriptionForm, token: str) -> float:
    try:
        payload = signing.loads(token or "", salt=RENDER_SALT)
    except signing.BadSignature as error:
        raise DomainError("This form could not be checked. Please reload the page and try again.",
                          code="invalid_form_token", status=403) from error
    if not isinstance(payload, dict) or payload.get("f") != form.pk or not isinstance(payload.get("t"), int):
        raise DomainError("This form could not be checked. Please reload the page and try again.",
                          code="invalid_form_token", status=403)
    age = time.time() - payload["t"]
    if age > conf.form_token_max_age():
        raise DomainError("This form has expired. Please reload the page and try again.",
                          code="expired_form_token", status=403)
    return age


def origin_allowed(form: SubscriptionForm, origin: str, *, own_origins: Iterable[str]) -> bool:
    """The hosted page posts from our own origin; an embedded form only from the sites the form names."""
    origin = (origin or "").strip().lower()
    return bool(origin) and origin != "null" and (origin in set(own_origins) or origin in form.allowed_origins)


def _over_limit(kind: str, value: str, limit: int) -> bool:
    return over_hourly_limit("form", kind, value, limit)


def _too_many() -> DomainError:
    return DomainError("Too many sign-ups from here in a short time. Please try again in an hour.",
                       code="rate_limited", status=429)


def _suppressed(email: str) -> bool:
    return Suppression.objects.filter(
        kind=SuppressionKind.EMAIL, value__in=[email, erasure_hash(email)]
    ).exists() or Suppression.objects.filter(kind=SuppressionKind.DOMAIN, value=email_domain(email)).exists()


def _answers(form: SubscriptionForm, data) -> tuple[dict, dict, list[str]]:
    """The contact fields, the extra questions and the topics chosen, checked against the form."""
    errors: dict[str, list[str]] = {}
    answers = {name: str(data.get(name, "")).strip()[:200] for name in form.fields}
    for name in form.required_fields:
        if not answers.get(name):
            errors[name] = ["This field is required."]
    extra = {item["key"]: str(data.get(f"custom_{item['key']}", "")).strip()[:500] for item in form.custom_fields}
    offered = {topic.slug for topic in form.topics.all()}
    chosen = data.getlist("topics") if hasattr(data, "getlist") else data.get("topics", [])
    chosen = [slug for slug in dict.fromkeys(str(slug) for slug in chosen or [])]
    if set(chosen) - offered:
        errors["topics"] = ["Choose among the topics offered."]
    if errors:
        raise _fields_error(errors)
    return answers, extra, chosen


def form_submit(*, form: SubscriptionForm, data, ip: str | None, user_agent: str = "",
                origin: str = "") -> SubmitResult:
    """Takes one sending of a public form. `data` is the posted fields (a QueryDict or a dict). Raises
    DomainError for what the person must correct (400 with field errors), a bad token (403) or too
    many sendings (429)."""
    age = _token_age(form, str(data.get("token", "")))
    looks_sent = SubmitResult(message=form.thank_you_message or (CHECK_INBOX if form.double_opt_in else SUBSCRIBED),
                              redirect_url=form.redirect_url)
    if str(data.get(HONEYPOT, "")).strip() or age < form.min_seconds:
        return looks_sent
    if ip and _over_limit("ip", ip, conf.form_rate_per_ip()):
        raise _too_many()
    try:
        email = email_normalise(str(data.get("email", "")))
    except DomainError as error:
        raise _fields_error({"email": ["Enter a valid email address."]}) from error
    answers, extra, chosen = _answers(form, data)
    if _over_limit("email", email, conf.form_rate_per_email()):
        raise _too_many()
    return _store(form=form, email=email, answers=answers, extra=extra, chosen=chosen, ip=ip,
                  user_agent=user_agent[:400], origin=origin[:200], looks_sent=looks_sent)


def _contact_create_first(*, email: str, form: SubscriptionForm, custom: dict, fields: dict) -> Contact:
    """The contact of a first sending. Two first sendings of one address racing (a double click, a second
    tab) both find no contact: the one that commits first wins, the other gets a 409 and keeps nothing (its
    whole sending rolls back), so there is one contact and one confirmation email."""
    try:
        with transaction.atomic():
            return contact_create(field_source=FORM_SOURCE, email=email, source=f"Form: {form.name}"[:80],
                                  custom_fields=custom, **fields)
    except (IntegrityError, ConflictError) as error:
        if isinstance(error, ConflictError) and error.code != "duplicate_email":
            raise
        raise ConflictError(SENT_TWICE, code="sent_twice") from error


@transaction.atomic
def _store(*, form, email, answers, extra, chosen, ip, user_agent, origin, looks_sent) -> SubmitResult:
    contact = Contact.objects.select_for_update().filter(email=email).first()
    if _suppressed(email) or (contact and contact.erased_at):
        return SubmitResult(message=NOT_ADDED)
    now = timezone.now()
    fields = {name: value for name, value in answers.items() if value and name != "company"}
    custom = {**extra, **({"company": answers["company"]} if answers.get("company") else {})}
    custom = {key: value for key, value in custom.items() if value}
    if contact is None:
        contact = _contact_create_first(email=email, form=form, custom=custom, fields=fields)
        consent = ConsentStatus.PENDING if form.double_opt_in else ConsentStatus.SUBSCRIBED
    else:
        # The person speaks for themselves, but a form never blanks nor overwrites what the team knows.
        blanks = {name: value for name, value in fields.items() if not getattr(contact, name)}
        merged = {**custom, **contact.custom_fields}
        if blanks or merged != contact.custom_fields:
            sources = {**contact.field_sources, **dict.fromkeys(blanks, FORM_SOURCE)}
            Contact.objects.filter(pk=contact.pk).update(custom_fields=merged, field_sources=sources,
                                                         updated_at=now, **blanks)
        # Already subscribed stays subscribed while the new consent (its topics) waits for its link.
        consent = contact.consent_status if contact.consent_status == ConsentStatus.SUBSCRIBED else (
            ConsentStatus.PENDING if form.double_opt_in else ConsentStatus.SUBSCRIBED)
    if consent != contact.consent_status or contact.consent_changed_at is None:
        Contact.objects.filter(pk=contact.pk).update(consent_status=consent, consent_changed_at=now,
                                                     consent_source=f"form:{form.slug}"[:120], updated_at=now)
        contact.consent_status = consent
    submission = FormSubmission(form=form, contact=contact, email=email, answers={**answers, **extra},
                                topics=chosen, consent_text=form.consent_text, ip=ip or None,
                                user_agent=user_agent, origin=origin, submitted_at=now)
    submission.full_clean(exclude=["form", "contact"])
    submission.save()
    contact_record_event(contact=contact, kind=EventKind.FORM_SUBMIT, occurred_at=now, channel="form",
                         source_kind="form", source_id=str(form.pk),
                         detail={"form_id": form.pk, "form": form.name, "submission_id": submission.pk,
                                 "topics": chosen, "double_opt_in": form.double_opt_in})
    if form.double_opt_in:
        transaction.on_commit(lambda: async_task("crm.tasks.form_confirmation_send_task", submission.pk))
    else:
        _confirm(submission=submission, contact=contact, ip=ip, user_agent=user_agent, at=now)
    return SubmitResult(message=looks_sent.message, redirect_url=looks_sent.redirect_url, submission=submission)


def _confirm(*, submission: FormSubmission, contact: Contact, ip, user_agent: str, at) -> None:
    FormSubmission.objects.filter(pk=submission.pk).update(confirmed_at=at, confirmed_ip=ip or None,
                                                           confirmed_user_agent=user_agent[:400])
    submission.confirmed_at, submission.confirmed_ip, submission.confirmed_user_agent = at, ip or None, user_agent
    Contact.objects.filter(pk=contact.pk).update(consent_status=ConsentStatus.SUBSCRIBED, consent_changed_at=at,
                                                 consent_source=f"form:{submission.form.slug}"[:120],
                                                 updated_at=at)
    contact.consent_status = ConsentStatus.SUBSCRIBED
    if contact.lifecycle_status == LifecycleStatus.UNSUBSCRIBED:
        # A confirmed opt-in is the new opt-in that brings someone who left back (crm.choices).
        contact_transition_if_allowed(contact=contact, to=LifecycleStatus.NEW, by_system=f"form:{submission.form.slug}",
                                      reason="Subscribed again through a form, confirmed")
    if submission.topics:
        contact.topics.add(*Topic.objects.filter(slug__in=submission.topics))
    tag_names = [tag.name for tag in submission.form.tags.all()]
    if tag_names:
        contacts_tag(contacts=[contact.pk], tag_names=tag_names)
    for contact_list in submission.form.lists.all():
        contact_list_add(contact_list=contact_list, contacts=[contact.pk])
    contact_record_event(contact=contact, kind=EventKind.SUBSCRIPTION_CONFIRMED, occurred_at=at, channel="form",
                         source_kind="form", source_id=str(submission.form_id),
                         detail={"form_id": submission.form_id, "form": submission.form.name,
                                 "submission_id": submission.pk, "topics": submission.topics})


def confirmation_token(submission: FormSubmission) -> str:
    return signing.dumps(submission.pk, salt=CONFIRM_SALT)


def confirmation_url(submission: FormSubmission) -> str:
    return settings.PUBLIC_BASE_URL + reverse("subscription-confirm", args=[confirmation_token(submission)])


def submission_from_token(token: str) -> FormSubmission:
    try:
        pk = signing.loads(token, salt=CONFIRM_SALT, max_age=conf.form_confirm_max_age())
    except signing.SignatureExpired as error:
        raise DomainError("This confirmation link has expired. Please sign up again.", code="link_expired",
                          status=410) from error
    except signing.BadSignature as error:
        raise DomainError("This confirmation link is not valid.", code="invalid_link", status=404) from error
    submission = FormSubmission.objects.select_related("form", "contact").filter(pk=pk).first()
    if submission is None or submission.contact is None:
        raise DomainError("This confirmation link is not valid.", code="invalid_link", status=404)
    return submission


@transaction.atomic
def submission_confirm(*, token: str, ip: str | None, user_agent: str = "") -> FormSubmission:
    """Opening the emailed link's page and pressing Confirm. Confirming twice changes nothing."""
    submission = submission_from_token(token)
    # of=self: PostgreSQL locks no row of a nullable join (the contact), and the submission is what is claimed.
    submission = (FormSubmission.objects.select_for_update(of=("self",)).select_related("form", "contact")
                  .get(pk=submission.pk))
    if submission.confirmed_at is not None:
        return submission
    contact = submission.contact
    if _suppressed(contact.email) or contact.erased_at:
        raise DomainError(NOT_ADDED, code="not_added", status=409)
    _confirm(submission=submission, contact=contact, ip=ip, user_agent=user_agent, at=timezone.now())
    return submission


def _confirmation_email(submission: FormSubmission, message_id: str) -> OutgoingEmail:
    link = confirmation_url(submission)
    form = submission.form
    text = (f"Hello,\n\nSomeone (we hope you) asked to subscribe {submission.email} through “{form.name}”.\n"
            f"Please confirm by opening this link:\n\n{link}\n\n"
            "If it was not you, ignore this email: you will not be subscribed.\n")
    return OutgoingEmail(to=submission.email, subject=f"Please confirm your subscription: {form.name}", text=text,
                         from_email=conf.form_from_email(), message_id=message_id)


def form_confirmation_send(*, submission_id: int) -> bool:
    """Sends a submission's confirmation email at most once; True when this call sent it.

    The claim commits before the provider is called, so a second run (a retried task, a second worker)
    finds it taken and sends nothing. A refusal that certainly delivered nothing frees the claim for a
    retry; an outcome unknown keeps it: a person may get no email, never two."""
    message_id = make_msgid(domain=settings.PUBLIC_BASE_URL.split("//")[-1].split(":")[0] or "localhost")
    claimed = FormSubmission.objects.filter(
        pk=submission_id, confirmation_claimed_at__isnull=True, confirmed_at__isnull=True,
    ).update(confirmation_claimed_at=timezone.now(), confirmation_message_id=message_id[:200])
    if not claimed:
        return False
    submission = FormSubmission.objects.select_related("form").get(pk=submission_id)
    try:
        with open_email_session() as session:
            session.send(_confirmation_email(submission, message_id))
    except OutcomeUnknown as error:
        FormSubmission.objects.filter(pk=submission_id).update(
            confirmation_error=str(error)[:2000])
        return False
    except GatewayError as error:
        FormSubmission.objects.filter(pk=submission_id).update(confirmation_claimed_at=None,
                                                               confirmation_error=str(error)[:2000])
        raise
    FormSubmission.objects.filter(pk=submission_id).update(confirmation_sent_at=timezone.now(), confirmation_error="")
    return True


# A claim this old without a sent time: its worker died mid-send (or the provider never answered).
CONFIRMATION_LEASE = timedelta(minutes=10)


def confirmation_state(submission: FormSubmission, now=None) -> str:
    """Where a submission's confirmation email is: sent, unknown (claimed, never marked sent, and the
    provider gave no answer or the claim's lease passed), sending, not_sent (refused: the retries may
    have run out), queued, or confirmed."""
    now = now or timezone.now()
    if submission.confirmed_at:
        return "confirmed"
    if submission.confirmation_sent_at:
        return "sent"
    if submission.confirmation_claimed_at:
        lapsed = submission.confirmation_claimed_at < now - CONFIRMATION_LEASE
        return "unknown" if submission.confirmation_error or lapsed else "sending"
    return "not_sent" if submission.confirmation_error else "queued"


def _queue_confirmation(submission_id: int) -> None:
    transaction.on_commit(lambda: async_task("crm.tasks.form_confirmation_send_task", submission_id))


@transaction.atomic
def submission_confirmation_resend(*, submission: FormSubmission, by=None) -> FormSubmission:
    """Queues the confirmation email again once the provider refused it (its retries may have run out).
    The sender's claim still makes it go at most once, even if a retry was pending."""
    submission = FormSubmission.objects.select_for_update().get(pk=submission.pk)
    state = confirmation_state(submission)
    if state != "not_sent":
        raise ConflictError(f"Only a confirmation email that was not sent is sent again; this one is {state}.",
                            code=f"confirmation_{state}")
    FormSubmission.objects.filter(pk=submission.pk).update(confirmation_error="")
    audit_operation(model=FormSubmission, action="Sent the confirmation email again", count=1, by=by,
                    details={"submission_id": submission.pk, "email": submission.email})
    _queue_confirmation(submission.pk)
    submission.confirmation_error = ""
    return submission


@transaction.atomic
def submission_confirmation_reconcile(*, submission: FormSubmission, sent: bool, by=None) -> FormSubmission:
    """Settles a confirmation email whose outcome is unknown once someone checked the provider's log: it was
    sent (marked so, at its claim's time), or it was not (freed and queued again)."""
    submission = FormSubmission.objects.select_for_update().get(pk=submission.pk)
    state = confirmation_state(submission)
    if state != "unknown":
        raise ConflictError(f"Only a confirmation email whose outcome is unknown is settled; this one is {state}.",
                            code=f"confirmation_{state}")
    if sent:
        changes = {"confirmation_sent_at": submission.confirmation_claimed_at, "confirmation_error": ""}
    else:
        changes = {"confirmation_claimed_at": None, "confirmation_error": ""}
        _queue_confirmation(submission.pk)
    FormSubmission.objects.filter(pk=submission.pk).update(**changes)
    audit_operation(model=FormSubmission, by=by, count=1,
                    action="Confirmation email checked: it was sent" if sent else
                    "Confirmation email checked: it was not sent, sent again",
                    details={"submission_id": submission.pk, "email": submission.email})
    for name, value in changes.items():
        setattr(submission, name, value)
    return submission
