"""Markdown to safe HTML for previews, public pages and feeds.

Raw HTML in the source is escaped (html=False) and markdown-it refuses javascript:/data: links, so an
author's text can never run script in a reader's browser.
"""

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render_markdown(text: str) -> SafeString:
    return mark_safe(_RENDERER.render(text or ""))  # noqa: S308 - the renderer escapes every raw HTML input
