"""CRM settings. Read at call time so tests can override them with pytest-django's `settings`."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aicmo_site.env import env_int, env_str
from gateways import services as gateways


def soft_bounce_limit() -> int:
    """Soft bounces after which an address is treated like a hard bounce (suppressed)."""
    return getattr(settings, "CRM_SOFT_BOUNCE_LIMIT", env_int("CRM_SOFT_BOUNCE_LIMIT", 3, minimum=1))


def enrichment_batch_size() -> int:
    """Contacts asked of the providers per call; also how often a run's progress is saved."""
    return getattr(settings, "CRM_ENRICHMENT_BATCH_SIZE", env_int("CRM_ENRICHMENT_BATCH_SIZE", 25, minimum=1))


def enrichment_max_attempts() -> int:
    """Times a contact waits out a provider outage before its run gives up on it (failed)."""
    return getattr(settings, "CRM_ENRICHMENT_MAX_ATTEMPTS", env_int("CRM_ENRICHMENT_MAX_ATTEMPTS", 5, minimum=1))


def stripe_signing_secrets() -> list[str]:
    """The secrets a Stripe webhook event may be signed with (whsec_...): those of the payments provider
    accounts (current and previous, while one is rolled over) and, as a fallback for installations set
    up before the account held them, STRIPE_WEBHOOK_SECRET. None refuses every event."""
    fallback = getattr(settings, "STRIPE_WEBHOOK_SECRET", env_str("STRIPE_WEBHOOK_SECRET", "") or "")
    secrets = gateways.payments_webhook_secrets()
    return secrets + [fallback] if fallback and fallback not in secrets else secrets


def stripe_tolerance_seconds() -> int:
    """Stripe's own libraries refuse signatures older than five minutes."""
    return getattr(
        settings, "STRIPE_WEBHOOK_TOLERANCE_SECONDS", env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=1)
    )


def value_tier_thresholds() -> tuple[Decimal, Decimal, Decimal] | None:
    """Lifetime values at which Silver, Gold and Platinum start ("500,2000,10000"); None: by quantile."""
    raw = getattr(settings, "CRM_VALUE_TIER_THRESHOLDS", None)
    if raw is None:
        raw = env_str("CRM_VALUE_TIER_THRESHOLDS", "") or ""
    if not raw:
        return None
    try:
        values = tuple(Decimal(part.strip()) for part in str(raw).split(","))
    except InvalidOperation:
        values = ()
    if len(values) != 3 or not (0 < values[0] < values[1] < values[2]):
        raise ImproperlyConfigured(
            "CRM_VALUE_TIER_THRESHOLDS must be three increasing positive amounts, "
            'where Silver, Gold and Platinum start, e.g. "500,2000,10000".'
        )
    return values


def form_rate_per_email() -> int:
    """Form sendings one address may make per hour; more are answered 429 (a bot trying addresses)."""
    return getattr(settings, "CRM_FORM_RATE_PER_EMAIL", env_int("CRM_FORM_RATE_PER_EMAIL", 3, minimum=1))


def form_rate_per_ip() -> int:
    """Form sendings one IP address may make per hour (an office behind one address needs room)."""
    return getattr(settings, "CRM_FORM_RATE_PER_IP", env_int("CRM_FORM_RATE_PER_IP", 30, minimum=1))


def push_subscribe_rate_per_ip() -> int:
    """Browser push subscriptions one IP address may post per hour (a click each; an office shares one)."""
    return getattr(settings, "CRM_PUSH_SUBSCRIBE_RATE_PER_IP",
                   env_int("CRM_PUSH_SUBSCRIBE_RATE_PER_IP", 30, minimum=1))


def push_subscribe_rate_per_endpoint() -> int:
    """Times one browser's subscription (its endpoint) may be posted per hour: a person re-allowing
    notifications a few times, not a script cycling contact tokens through it."""
    return getattr(settings, "CRM_PUSH_SUBSCRIBE_RATE_PER_ENDPOINT",
                   env_int("CRM_PUSH_SUBSCRIBE_RATE_PER_ENDPOINT", 5, minimum=1))


def push_link_max_age_days() -> int:
    """Days a contact's push link (from an email) ties a browser to them; an older link still lets the
    person subscribe, but anonymously."""
    return getattr(settings, "CRM_PUSH_LINK_MAX_AGE_DAYS", env_int("CRM_PUSH_LINK_MAX_AGE_DAYS", 30, minimum=1))


def form_token_max_age() -> int:
    """Seconds a rendered form stays usable; an older one asks to reload the page."""
    return getattr(settings, "CRM_FORM_TOKEN_MAX_AGE", env_int("CRM_FORM_TOKEN_MAX_AGE", 86400, minimum=60))


def form_confirm_max_age() -> int:
    """Seconds a double opt-in confirmation link stays valid (a week by default)."""
    return getattr(settings, "CRM_FORM_CONFIRM_MAX_AGE", env_int("CRM_FORM_CONFIRM_MAX_AGE", 7 * 86400, minimum=60))


def form_from_email() -> str:
    """The sender of confirmation emails; empty: the sending account's own."""
    return getattr(settings, "CRM_FORM_FROM_EMAIL", env_str("CRM_FORM_FROM_EMAIL", "") or "")


def weather_calls_per_run() -> int:
    """Weather provider calls one hourly refresh may make. OpenWeather's free plan allows 1,000,000 a month:
    1,000 an hour is at most 744,000 in a 31-day month, leaving room for geocoding new cities and retries."""
    return getattr(settings, "CRM_WEATHER_CALLS_PER_RUN", env_int("CRM_WEATHER_CALLS_PER_RUN", 1000, minimum=1))


def sms_help_reply() -> str:
    """Answered to a HELP text; empty leaves HELP to the SMS provider's own answer."""
    return getattr(settings, "SMS_HELP_REPLY", env_str("SMS_HELP_REPLY", "") or "")
