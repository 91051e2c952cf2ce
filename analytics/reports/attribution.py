"""Attribution of conversions to campaigns and channels.

A touch is an engagement event carrying a campaign (sent, opened, clicked, replied, page view,
form submit) by the converting contact within the look-back window before the conversion. Each
conversion hands out exactly one unit of credit (and its value) among its touches by the chosen
model; a conversion with no touch is credited to "unattributed", so every model's totals equal
the conversions counted. A refund (a conversion with a negative value) takes its value back the same way
and counts as no conversion.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from analytics import conf
from crm.choices import EventKind
from crm.models import EngagementEvent
from publishing.models import Campaign

MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
TOUCH_KINDS = (EventKind.SENT, EventKind.OPENED, EventKind.CLICKED, EventKind.REPLIED, EventKind.PAGE_VIEW,
               EventKind.FORM_SUBMIT)


def _weights(model: str, touch_times: list[dt.datetime], converted_at: dt.datetime, half_life_days: float):
    n = len(touch_times)
    if model == "first_touch":
        return [1.0] + [0.0] * (n - 1)
    if model == "last_touch":
        return [0.0] * (n - 1) + [1.0]
    if model == "linear":
        return [1.0 / n] * n
    if model == "time_decay":
        raw = [0.5 ** ((converted_at - t).total_seconds() / 86400 / half_life_days) for t in touch_times]
        total = sum(raw)
        return [w / total for w in raw]
    if n == 1:
        return [1.0]
    if n == 2:
        return [0.5, 0.5]
    return [0.4] + [0.2 / (n - 2)] * (n - 2) + [0.4]


def attribution(*, model: str, start: dt.date, end: dt.date, lookback_days: int | None = None,
                half_life_days: float | None = None) -> dict:
    if model not in MODELS:
        raise ValueError(f"Unknown attribution model {model!r}; choose one of {', '.join(MODELS)}.")
    lookback = dt.timedelta(days=lookback_days or conf.attribution_lookback_days())
    half_life = half_life_days or conf.attribution_half_life_days()
    conversions = list(
        EngagementEvent.objects.filter(kind=EventKind.CONVERTED, occurred_at__date__gte=start,
                                       occurred_at__date__lte=end)
        .order_by("contact_id", "occurred_at", "id").values("id", "contact_id", "occurred_at", "value")
    )
    touches_by_contact = defaultdict(list)
    if conversions:
        earliest = min(c["occurred_at"] for c in conversions) - lookback
        latest = max(c["occurred_at"] for c in conversions)
        for touch in (
            EngagementEvent.objects.filter(
                contact_id__in={c["contact_id"] for c in conversions}, kind__in=TOUCH_KINDS,
                campaign_id__isnull=False, occurred_at__gte=earliest, occurred_at__lte=latest)
            .order_by("occurred_at", "id").values_list("contact_id", "occurred_at", "campaign_id", "channel")
            .iterator(chunk_size=5000)
        ):
            touches_by_contact[touch[0]].append(touch[1:])
    credit: dict[tuple, list] = defaultdict(lambda: [0.0, Decimal("0")])
    for conversion in conversions:
        at, value = conversion["occurred_at"], Decimal(conversion["value"] or 0)
        # A refund (a negative value, crm.services.payments) takes back revenue from the touches before it
        # and hands out no conversion credit.
        unit = 0.0 if value < 0 else 1.0
        touches = [t for t in touches_by_contact[conversion["contact_id"]] if at - lookback <= t[0] <= at]
        if not touches:
            credit[(None, "")][0] += unit
            credit[(None, "")][1] += value
            continue
        for (_, campaign_id, channel), weight in zip(touches, _weights(model, [t[0] for t in touches], at, half_life),
                                                     strict=True):
            credit[(campaign_id, channel)][0] += weight * unit
            credit[(campaign_id, channel)][1] += value * Decimal(str(weight))
    names = Campaign.objects.in_bulk([cid for cid, _ in credit if cid is not None])
    rows = [
        {"campaign_id": cid, "campaign": names[cid].name if cid in names else ("unattributed" if cid is None
                                                                                else f"campaign {cid}"),
         "campaign_exists": cid in names,
         "channel": channel, "conversions": round(conv, 6), "revenue": revenue.quantize(Decimal("0.01"))}
        for (cid, channel), (conv, revenue) in credit.items()
    ]
    rows.sort(key=lambda r: (-r["conversions"], str(r["campaign"]), r["channel"]))
    return {
        "model": model, "start": start, "end": end, "lookback_days": lookback.days, "half_life_days": half_life,
        "conversions": sum(1 for c in conversions if Decimal(c["value"] or 0) >= 0),
        "revenue": sum((Decimal(c["value"] or 0) for c in conversions), Decimal("0")),
        "rows": rows,
    }
