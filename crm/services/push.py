"""Web-push subscriptions: stored per browser when a person allows notifications on the site, linked to a
contact when the page carried their signed token, removed when they withdraw or the push service says the
subscription is gone."""

import re
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from aicmo_site.errors import DomainError
from crm import conf
from crm.models import Contact, PushSubscription
from crm.rate_limits import over_hourly_limit, seconds_to_next_window

TOKEN_SALT = "crm.push.contact"
_B64URL = re.compile(r"^[A-Za-z0-9_-]+=*$")


def push_contact_token(contact: Contact | int) -> str:
    """What a page the contact reaches (a link from an email) puts in the subscription script's
    data-contact, so their browser's subscription is theirs. Signed and timestamped: it works for
    CRM_PUSH_LINK_MAX_AGE_DAYS, so a forwarded old email cannot tie a stranger's browser for ever."""
    return signing.dumps(getattr(contact, "pk", contact), salt=TOKEN_SALT)


def push_allow_url(contact: Contact | int) -> str:
    """The link an email gives its contact: a page of ours that subscribes their browser as theirs."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("crm:push-allow", args=[push_contact_token(contact)])


def push_contact_from_token(token: str) -> Contact | None:
    """The contact a genuine, unexpired token names (None when blank, or for an erased contact); a forged
    or expired token is a DomainError saying which."""
    if not token:
        return None
    try:
        contact_id = signing.loads(token, salt=TOKEN_SALT, max_age=timedelta(days=conf.push_link_max_age_days()))
    except signing.SignatureExpired:
        raise DomainError("This link has expired: ask for a new one.", code="expired_token",
                          extra={"field": "contact"})
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
    contact = push_contact_from_token(contact_token)
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
