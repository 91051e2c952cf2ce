"""Template filters that keep code names out of what people read."""

from django import template

register = template.Library()


@register.filter
def words(value) -> str:
    """An action or status code as words: "request_changes" reads "Request changes"."""
    return str(value).replace("_", " ").strip().capitalize()
