"""The best time to send email, learned from what the email sent did: the same 7x24 map as a channel's
(publishing/best_times.py), where each sent delivery counts once in the hour it went out, with its
engagement: 1 if it was opened, 1 more if it was clicked (opens are undercounted by image blocking,
clicks are not).

Cached for a quarter of an hour and not forgotten on each open: opens arrive all day, and a quarter of
an hour changes nothing in a map of weeks."""

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from publishing.best_times import CACHE_SECONDS, map_from_totals, team_zone
from publishing.email.choices import DeliveryStatus
from publishing.email.models import EmailDelivery

EMAIL = "email"
_CACHE_KEY = "publishing:best-times:email"


def _hourly_totals() -> dict[tuple[int, int], tuple[int, int]]:
    """(weekday 0-6, hour) -> (emails sent, opened + clicked), in one aggregate query."""
    zone = team_zone()
    rows = (
        EmailDelivery.objects.filter(status=DeliveryStatus.SENT, sent_at__isnull=False)
        .annotate(weekday=ExtractIsoWeekDay("sent_at", tzinfo=zone), hour=ExtractHour("sent_at", tzinfo=zone))
        .order_by()
        .values("weekday", "hour")
        .annotate(sent=Count("id"), opened=Count("first_opened_at"), clicked=Count("first_clicked_at"))
    )
    return {(row["weekday"] - 1, row["hour"]): (row["sent"], row["opened"] + row["clicked"]) for row in rows}


def email_best_times() -> dict:
    result = cache.get(_CACHE_KEY)
    if result is None:
        result = map_from_totals(_hourly_totals(), subject=EMAIL)
        cache.set(_CACHE_KEY, result, CACHE_SECONDS)
    return result
