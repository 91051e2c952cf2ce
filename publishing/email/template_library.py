"""The only tags and filters an email template may use: Django's own, minus everything that reaches
outside the data handed to it (include, extends, load, url, debug, csrf_token) or that turns
autoescaping off for contact data (safe, autoescape, safeseq)."""

from django.template import Library, defaultfilters, defaulttags

ALLOWED_TAGS = ("if", "for", "with", "firstof", "comment", "cycle", "spaceless", "now", "ifchanged",
                "templatetag", "widthratio", "resetcycle", "filter")
ALLOWED_FILTERS = (
    "add", "capfirst", "center", "cut", "date", "default", "default_if_none", "divisibleby", "escape",
    "first", "floatformat", "join", "last", "length", "linebreaks", "linebreaksbr", "ljust", "lower",
    "pluralize", "rjust", "slice", "slugify", "striptags", "time", "timesince", "timeuntil", "title",
    "truncatechars", "truncatewords", "upper", "urlencode", "wordcount", "wordwrap", "yesno",
)

register = Library()
for _name in ALLOWED_TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
for _name in ALLOWED_FILTERS:
    register.filters[_name] = defaultfilters.register.filters[_name]
