"""The "Change history" section of an object's page: `{% load audit_log %}{% change_history contact %}`."""

from django import template

from aicmo_site.audit import AuditSource, audit_history

register = template.Library()


@register.inclusion_tag("aicmo_site/audit/_history.html")
def change_history(obj):
    return {"entries": audit_history(obj)}


@register.filter
def audit_from(entry) -> str:
    """Where an entry's change came from, in words: "API (token 1a2b3c4d)"."""
    data = entry.additional_data or {}
    source = data.get("source", AuditSource.UNKNOWN)
    label = AuditSource(source).label if source in AuditSource.values else source
    detail = data.get("source_detail", "")
    return f"{label} ({detail})" if detail else label
