"""Web-push subscriptions: stored per browser when a person allows notifications on the site, linked to a
contact when the page carried their signed token, removed when they withdraw or the push service says the
subscription is gone."""

import re

from django.core import signing
from django.db import transaction

from aicmo_site.errors import DomainError
from crm import conf
from crm.models import Contact, PushSubscription
from crm.rate_limits import over_hourly_limit, seconds_to_next_window

TOKEN_SALT = "crm.push.contact"
_B64URL = re.compile(r"^[A-Za-z0-9_-]+=*$")


def push_contact_token(contact: Contact) -> str:
    """What a page the contact reaches (a link from an email) puts in the subscription script's
    data-contact, so their browser's subscription is theirs."""
    return signing.dumps(contact.pk, salt=TOKEN_SALT)


def _contact_from(token: str) -> Contact | None:
    if not token:
        return None
    try:
        contact_id = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        raise DomainError("The contact token is not valid.", code="invalid_token", extra={"field": "contact"})
    return Contact.objects.filter(pk=contact_id, erased_at__isnull=True).first()


def _too_many(what: str) -> DomainError:
    wait = seconds_to_next_window()
    return DomainError(f"Too many subscriptions from {what} in an hour; try again in {wait // 60 + 1} minutes.",
                       code="rate_limited", extra={"wait_seconds": wait}, status=429)


@transaction.atomic
def push_subscription_save(*, endpoint: str, p256dh: str, auth: str, contact_token: str = "",
                           user_agent: str = "", ip: str = "") -> PushSubscription:
    """Store (or refresh) a browser's subscription; the same endpoint twice is one subscription.

    The endpoint is public and takes no session, so each address and each endpoint may post only so many
    times an hour (429): a script cannot fill the table, nor keep re-tying one browser to contacts."""
    if ip and over_hourly_limit("push", "ip", ip, conf.push_subscribe_rate_per_ip()):
        raise _too_many("this address")
    if over_hourly_limit("push", "endpoint", endpoint, conf.push_subscribe_rate_per_endpoint()):
        raise _too_many("this browser")
    for name, value in (("p256dh", p256dh), ("auth", auth)):
        if not value or not _B64URL.match(value):
            raise DomainError(f"The subscription's {name} key is missing or not base64url.",
                              code="invalid_subscription", extra={"field": name})
    contact = _contact_from(contact_token)
    subscription = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first() or \
        PushSubscription(endpoint=endpoint)
    subscription.p256dh, subscription.auth = p256dh, auth
    subscription.user_agent = user_agent[:200]
    if contact is not None:
        subscription.contact = contact
    try:
        subscription.full_clean()
    except Exception as exc:  # noqa: BLE001 - a ValidationError; the API answers with the message
        raise DomainError(f"The subscription is not valid: {exc}", code="invalid_subscription")
    subscription.save()
    return subscription


def push_subscription_remove(*, endpoint: str) -> bool:
    """The browser withdrew, or its push service answered 404/410: nothing is pushed there again."""
    deleted, _ = PushSubscription.objects.filter(endpoint=endpoint).delete()
    return bool(deleted)
