"""From what a marketer writes to the HTML source the sandbox renders for each contact: a template's body
placed in its stored layout, then MJML compiled to HTML.

Inheritance is resolved here, on the source text, rather than by Django's `{% extends %}`: the sandbox has
no loader and no `extends` or `block` tag, so nothing a template writes can name a file. A layout is a
stored row chosen by the template's `layout` field; its `{% block name %}default{% endblock %}` places are
replaced by the template's blocks of the same name (`{{ block.super }}` keeps the default), and the result,
with no block tags left, is compiled by the sandbox like any other template. Doing it on the source keeps
the per-contact render as fast as before and lets MJML be compiled once per send, not once per contact.

MJML is compiled by mjml-python (MRML, the Rust port of MJML; no Node). Template tags pass through it as
text, so `{{ contact.first_name }}` and `{% if %}` around whole sections still work; `<mj-include>` is
refused (no file or URL is ever read) and no web font is imported unless the MJML asks for one.
"""

from __future__ import annotations

from functools import lru_cache

import mjml
from django.template.base import DebugLexer, TokenType

from aicmo_site.errors import DomainError
from publishing.email.choices import TemplateFormat

_BLOCK_SUPER = "block.super"


class _Comment(str):
    """The source of a `{% comment %}` tag or of the text inside one."""


class _Block:
    __slots__ = ("name", "parts")

    def __init__(self, name: str):
        self.name = name
        self.parts: list = []  # source text (str) and nested blocks, in order


def _parse(source: str, *, what: str) -> tuple[list, dict[str, _Block]]:
    """The source as a list of text and blocks, and every block by name (at any depth)."""
    root: list = []
    stack: list[_Block] = []
    by_name: dict[str, _Block] = {}
    in_comment = False

    def parts() -> list:
        return stack[-1].parts if stack else root

    for token in DebugLexer(source).tokenize():
        start, end = token.position
        raw = source[start:end]
        bits = token.split_contents() if token.token_type == TokenType.BLOCK else []
        if in_comment:
            in_comment = bits[:1] != ["endcomment"]
            parts().append(_Comment(raw))
        elif bits[:1] == ["comment"]:
            in_comment = True
            parts().append(_Comment(raw))
        elif bits[:1] == ["block"]:
            if len(bits) != 2:
                raise DomainError(f"{what}: write a block as {{% block name %}} … {{% endblock %}}.",
                                  code="layout_block")
            if bits[1] in by_name:
                raise DomainError(f"{what}: the block “{bits[1]}” appears twice.", code="layout_block")
            block = _Block(bits[1])
            by_name[block.name] = block
            parts().append(block)
            stack.append(block)
        elif bits[:1] == ["endblock"]:
            if not stack or (len(bits) == 2 and bits[1] != stack[-1].name):
                raise DomainError(f"{what}: {raw} closes no open block.", code="layout_block")
            stack.pop()
        else:
            parts().append(raw)
    if stack:
        raise DomainError(f"{what}: the block “{stack[-1].name}” is not closed with {{% endblock %}}.",
                          code="layout_block")
    return root, by_name


def _is_super(part) -> bool:
    return isinstance(part, str) and part.startswith("{{") and part[2:-2].strip() == _BLOCK_SUPER


def _join(parts: list, overrides: dict[str, _Block], parent: _Block | None = None) -> str:
    out = []
    for part in parts:
        if isinstance(part, _Block):
            own = overrides.get(part.name)
            out.append(_join(own.parts, overrides, parent=part) if own else _join(part.parts, overrides))
        elif parent is not None and _is_super(part):
            out.append(_join(parent.parts, {}))
        else:
            out.append(part)
    return "".join(out)


def flatten(layout_body: str, body: str) -> str:
    """The template's blocks placed in the layout; text of the template outside its blocks is refused,
    as is a block the layout does not have (a typo would otherwise drop content silently)."""
    layout_parts, layout_blocks = _parse(layout_body, what="The layout")
    body_parts, body_blocks = _parse(body, what="The body")
    stray = "".join(part for part in body_parts
                    if isinstance(part, str) and not isinstance(part, _Comment) and not part.startswith("{#")).strip()
    if stray:
        raise DomainError("With a layout, write the body inside {% block name %} … {% endblock %}: "
                          f"“{stray[:60]}” is outside any block.", code="layout_block")
    unknown = sorted(set(body_blocks) - set(layout_blocks))
    if unknown:
        raise DomainError(f"The layout has no block named {', '.join(unknown)}; its blocks are "
                          f"{', '.join(sorted(layout_blocks)) or 'none'}.", code="layout_block")
    return _join(layout_parts, body_blocks)


def _no_includes(path: str) -> str:
    raise ValueError(f"mj-include is not available ({path}): put shared parts in a layout")


@lru_cache(maxsize=128)
def mjml_to_html(source: str) -> str:
    try:
        return mjml.mjml2html(source, fonts={}, include_loader=_no_includes)
    except ValueError as exc:
        raise DomainError(f"The MJML cannot be compiled: {exc}.", code="mjml_invalid")


def layout_source(*, format: str, body: str) -> str:
    """A layout on its own (its blocks showing their defaults), as the HTML the sandbox renders."""
    flat = flatten(body, "")
    return mjml_to_html(flat) if format == TemplateFormat.MJML else flat


def html_source(*, format: str, body: str, layout=None) -> str:
    """The HTML source (template syntax still in it) of a body written in `format`, in `layout` if any.
    Raises DomainError naming the field at fault."""
    if layout is not None and layout.format != format:
        raise DomainError(f"layout: “{layout.name}” is written in {layout.get_format_display()}; the body "
                          f"must be too.", code="layout_format", extra={"field": "layout"})
    try:
        flat = flatten(layout.body, body) if layout is not None else body
        return mjml_to_html(flat) if format == TemplateFormat.MJML else flat
    except DomainError as exc:
        raise DomainError(f"html_body: {exc.message}", code=exc.code, extra={"field": "html_body"})


def template_html_source(template) -> str:
    return html_source(format=template.format, body=template.html_body, layout=template.layout)
