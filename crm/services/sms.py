"""SMS consent: who may receive marketing text messages, changed by a person, by the contact's own
keywords (STOP, START) through the SMS provider's inbound webhook, or by the provider refusing a number
that unsubscribed."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import DomainError
from crm.choices import SmsConsentStatus
from crm.models import Contact, SmsConsent
from crm.phones import phone_e164, phone_e164_expression

# The keywords carriers and Twilio treat as opting out and back in
# (https://help.twilio.com/articles/223134027); a message is one of them when it is nothing else.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})


def contacts_with_number(number: str):
    """Contacts whose phone, written with any spacing, is this E.164 number (00 prefixes included)."""
    return Contact.objects.filter(erased_at__isnull=True).annotate(sms_number=phone_e164_expression()).filter(
        sms_number=number)


@transaction.atomic
def sms_consent_set(*, number: str, status: str, source: str, contact: Contact | None = None,
                    when: datetime | None = None) -> SmsConsent:
    """Record the number's consent. Without `contact`, the contact holding the number (when exactly one
    does) is linked, so its page shows it."""
    e164 = phone_e164(number)
    if not e164:
        raise DomainError("The phone number must be written internationally, e.g. +447700900123.", "invalid_phone")
    if status not in SmsConsentStatus.values:
        raise DomainError(f"Unknown SMS consent {status!r}.", "invalid_consent")
    consent = SmsConsent.objects.select_for_update().filter(number=e164).first()
    if contact is None and (consent is None or consent.contact_id is None):
        holders = list(contacts_with_number(e164)[:2])
        contact = holders[0] if len(holders) == 1 else None
    if consent is None:
        consent = SmsConsent(number=e164)
    consent.consent, consent.source = status, source[:120]
    consent.changed_at = when or timezone.now()
    if contact is not None:
        consent.contact = contact
    consent.full_clean()
    consent.save()
    return consent


@transaction.atomic
def contact_sms_consent_set(*, contact: Contact, status: str, source: str) -> SmsConsent:
    """A person records what the contact said (a form on paper, a call): for the contact's phone number."""
    if not phone_e164(contact.phone):
        raise DomainError("Enter the contact's phone number internationally (e.g. +447700900123) first.",
                          "invalid_phone")
    return sms_consent_set(number=contact.phone, status=status, source=source, contact=contact)


@dataclass(frozen=True)
class InboundOutcome:
    keyword: str  # opt_out, opt_in, help or "" for any other message
    consent: SmsConsent | None = None


def sms_inbound_apply(*, number: str, body: str, to: str = "") -> InboundOutcome:
    """A text the SMS provider received from `number`. Running it twice changes nothing more."""
    word = body.strip().upper()
    sender = phone_e164(number)
    if not sender:
        return InboundOutcome("")
    via = f" to {to}" if to else ""
    if word in OPT_OUT_KEYWORDS:
        return InboundOutcome("opt_out", sms_consent_set(number=sender, status=SmsConsentStatus.OPTED_OUT,
                                                         source=f"Replied {word}{via}"))
    if word in OPT_IN_KEYWORDS:
        return InboundOutcome("opt_in", sms_consent_set(number=sender, status=SmsConsentStatus.OPTED_IN,
                                                        source=f"Replied {word}{via}"))
    if word in HELP_KEYWORDS:
        return InboundOutcome("help")
    return InboundOutcome("")
