"""Contacts grouped by the month they were acquired (or by source), with the share engaged and
converted in each following month: the rows of a heat map.

For source cohorts, month 0 is the month the source's contacts were first active. Months that
have not happened yet are None ("n/a"); elapsed months without activity are 0.
"""

import zoneinfo

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from analytics.reports.measures import ratio
from crm.choices import EventKind
from crm.models import Contact, EngagementEvent

ENGAGING = (EventKind.OPENED, EventKind.CLICKED, EventKind.REPLIED, EventKind.FORM_SUBMIT, EventKind.PAGE_VIEW)
GROUPINGS = ("month", "source")


def _months_between(first, later) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def cohorts(*, by: str = "month", months: int = 6, now=None) -> dict:
    if by not in GROUPINGS:
        raise ValueError(f"Cohorts group by one of {', '.join(GROUPINGS)}.")
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    this_month = timezone.localtime(now or timezone.now(), zone).date().replace(day=1)
    cohort_of_contact = TruncMonth("created_at", tzinfo=zone) if by == "month" else F("source")
    cohort_of_event = TruncMonth("contact__created_at", tzinfo=zone) if by == "month" else F("contact__source")

    sizes = dict(
        Contact.objects.filter(erased_at__isnull=True).annotate(cohort=cohort_of_contact)
        .values("cohort").annotate(size=Count("id")).order_by().values_list("cohort", "size")
    )
    activity: dict = {}
    for row in (
        EngagementEvent.objects.filter(Q(kind__in=ENGAGING) | Q(kind=EventKind.CONVERTED))
        .annotate(cohort=cohort_of_event, month=TruncMonth("occurred_at", tzinfo=zone))
        .values("cohort", "month")
        .annotate(
            engaged=Count("contact_id", distinct=True, filter=Q(kind__in=ENGAGING)),
            converted=Count("contact_id", distinct=True, filter=Q(kind=EventKind.CONVERTED)),
        )
        .order_by()
    ):
        activity.setdefault(row["cohort"], {})[row["month"]] = row

    table = []
    for cohort, size in sorted(sizes.items(), key=lambda item: str(item[0] or "")):
        seen = activity.get(cohort, {})
        first = cohort if by == "month" else (min(seen) if seen else None)
        cells = []
        for offset in range(months):
            if first is None or _months_between(first, this_month) < offset:
                cells.append({"engaged": None, "converted": None})
                continue
            month_rows = [row for month, row in seen.items() if _months_between(first, month) == offset]
            row = month_rows[0] if month_rows else {"engaged": 0, "converted": 0}
            cells.append({"engaged": ratio(row["engaged"], size), "converted": ratio(row["converted"], size)})
        label = cohort.strftime("%Y-%m") if by == "month" else (cohort or "(no source)")
        table.append({"cohort": label, "size": size, "months": cells})
    return {"by": by, "months": months, "rows": table}
