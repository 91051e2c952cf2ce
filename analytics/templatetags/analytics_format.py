from django import template

from analytics.reports import METRICS

register = template.Library()


@register.filter
def metric(value, key: str) -> str:
    """Formats a report value by its metric kind; None (a zero denominator) reads n/a."""
    known = METRICS.get(key)
    if known is None:
        return "n/a" if value is None else value
    return known.format(value)


@register.filter
def metric_label(key: str) -> str:
    known = METRICS.get(key)
    return known.label if known else key


@register.filter
def percent(value) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


@register.filter
def change(value) -> str:
    if value is None:
        return "n/a"
    arrow = "▲" if value > 0 else ("▼" if value < 0 else "·")
    return f"{arrow} {abs(value) * 100:.1f}%"


@register.filter
def heat(value) -> str:
    """A background colour for a heat-map cell (share 0..1)."""
    if value is None:
        return "transparent"
    alpha = min(max(value, 0), 1) * 0.85 + 0.05
    return f"rgba(51, 85, 221, {alpha:.2f})"


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
