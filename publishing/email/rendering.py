"""Rendering an email template for one contact, inside a sandbox.

Templates use Django template syntax, compiled by a dedicated Engine with no loaders and only the
allow-listed tags and filters of `template_library`. The data they see is built here from plain
values: `TemplateData` answers item lookups only and has no public attribute, so no template can
call a model method, follow a manager or read a setting. Variables (documented for authors):

    contact.first_name  contact.last_name  contact.full_name  contact.email  contact.job_title
    contact.city  contact.country  contact.company.name  contact.company.domain
    contact.custom.<field>          custom fields of the contact
    contact.tags  contact.segments  names, for {% if "ai" in contact.tags %}
    contact.topics                  slugs of the contact's topics of interest
    blocks.<slot>                   the dynamic blocks of that slot chosen for this contact
    campaign.name  unsubscribe_url  view_in_browser_url
    push_allow_url                  a signed, expiring link that subscribes the contact's browser to push
    brand.*                         the brand kit (publishing.email.brand)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

from django.template import Context, Engine, Template, TemplateSyntaxError, defaultfilters
from django.template.base import TextNode, Variable, VariableNode
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from aicmo_site.errors import DomainError

DOCUMENTED_VARIABLES = (
    "contact.first_name", "contact.last_name", "contact.full_name", "contact.email", "contact.job_title",
    "contact.city", "contact.country", "contact.company.name", "contact.company.domain",
    "contact.custom.<field>", "contact.tags", "contact.segments", "contact.topics", "blocks.<slot>", "campaign.name",
    "unsubscribe_url", "view_in_browser_url", "push_allow_url", "brand.name", "brand.logo_url", "brand.logo_alt",
    "brand.footer_address", "brand.colours.primary", "brand.colours.secondary", "brand.colours.text",
    "brand.colours.background", "brand.fonts.heading", "brand.fonts.body", "brand.social.<network>",
    "brand.social_links",
)


class TemplateData:
    """Read-only values for a template: item lookups only, so `{{ x.delete }}` finds nothing to call."""

    __slots__ = ("_values",)

    def __init__(self, values: dict):
        self._values = {key: _plain(value) for key, value in values.items()}

    def __getitem__(self, key):
        return self._values[key]

    def __contains__(self, key) -> bool:
        return key in self._values

    def __str__(self) -> str:
        return ""


def _plain(value):
    """Only strings, numbers, booleans, None, TemplateData and tuples of them reach a template."""
    if isinstance(value, TemplateData) or value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return TemplateData(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_plain(item) for item in value)
    return str(value)


@lru_cache(maxsize=1)
def sandbox_engine() -> Engine:
    engine = Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=True, string_if_invalid="",
                    debug=False)
    # Engine always prepends Django's default tag libraries (load, include, extends...) to `builtins`;
    # replacing the list afterwards is the only way to leave them out.
    engine.builtins = ["publishing.email.template_library"]
    engine.template_builtins = engine.get_template_builtins(engine.builtins)
    engine.template_libraries = {}
    return engine


class SandboxTemplate(Template):
    """A variable repeated at the top level ({{ contact.first_name }} in every paragraph of a newsletter)
    is resolved once per render: it gives the same text until a tag runs, and any tag forgets what was
    kept, because some ({% cycle … as x %}, {% firstof … as x %}) set variables. Resolving every
    occurrence was most of the cost of sending a campaign.

    The top level is planned once per compiled template: runs of text and variables between tags, each
    with its distinct variables in order of first use and its parts (text, or which variable). Walking and
    testing every node at each render was then the largest cost left (a third of a worker's CPU). A run's
    parts are put in order by an itemgetter, in C: a Python loop over them (~130 in the bench's
    newsletter) was still about a fifth of a worker's CPU (cProfile), and str.format() parses its layout anew
    at every call. A plain variable ({{ contact.first_name }}, or with a |default:"…") is looked up by
    _quick_variable rather than through Django's general resolution."""

    def _render(self, context):
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = self._plan = _plan(self.nodelist)
        parts = []
        for variables, layout, tag in plan:
            if tag is not None:
                parts.append(tag.render_annotated(context))
            elif variables:
                texts, pick = layout
                parts += pick([render(context) for render in variables] + texts)
            else:
                parts.append(layout)
        return SafeString("".join(parts))


_DEFAULT_FILTER = defaultfilters.register.filters["default"]


def _quick_variable(node: VariableNode):
    """What node.render_annotated(context) gives, by a shorter way where the node is a plain lookup
    ({{ a.b.c }}, optionally |default with a literal) and each step finds a TemplateData and the end a
    string: what recipient_context hands a template. Django's resolution of each variable (the filter
    loop, the callable and attribute tries, localisation) was the largest cost left in rendering a
    message. Anything else (a missing name, a number, a tuple, another filter) goes the general way,
    which gives the same text: lookups in TemplateData and a Context have no side effect."""
    expression, general = node.filter_expression, node.render_annotated
    variable = expression.var
    if not isinstance(variable, Variable) or variable.lookups is None or variable.translate \
            or variable.message_context:
        return general
    otherwise = None
    if expression.filters:
        if len(expression.filters) != 1:
            return general
        function, arguments = expression.filters[0]
        if function is not _DEFAULT_FILTER or len(arguments) != 1 or arguments[0][0]:
            return general
        # FilterExpression.resolve marks a literal argument safe; `default` is value or argument.
        otherwise = mark_safe(arguments[0][1])  # noqa: S308 - a literal written in the template
    first, rest = variable.lookups[0], variable.lookups[1:]

    def render(context) -> str:
        try:
            value = context[first]
            for name in rest:
                if value.__class__ is not TemplateData:
                    return general(context)
                value = value._values[name]
        except KeyError:
            return general(context)
        if value.__class__ is not str and value.__class__ is not SafeString:
            return general(context)
        if otherwise is not None and not value:
            value = otherwise
        # render_value_in_context: a string is neither localised nor converted.
        return conditional_escape(value) if context.autoescape else value

    return render


def _plan(nodelist) -> list[tuple[list | None, object, object]]:
    """(renderers, (texts, pick), None) for each run of text and variables, ([], text, None) for a run of
    text alone, (None, None, tag) for each other node. `pick` takes the variables' values (each renderer's
    of the context) followed by `texts` and gives the run's parts in order, as a tuple."""
    plan, variables, run, index_of = [], [], [], {}

    def close_run():
        if run and variables:
            texts = [part for part in run if part.__class__ is str]
            order, text_index = [], len(variables)
            for part in run:
                if part.__class__ is str:
                    order.append(text_index)
                    text_index += 1
                else:
                    order.append(part)
            # itemgetter of one index gives the item itself, not a tuple of it.
            pick = itemgetter(*order) if len(order) > 1 else lambda values, index=order[0]: (values[index],)
            plan.append(([_quick_variable(node) for node in variables], (texts, pick), None))
        elif run:
            plan.append(([], run[0], None))
        variables.clear()
        run.clear()
        index_of.clear()

    for node in nodelist:
        if isinstance(node, TextNode):
            text = str(node.s)
            if run and run[-1].__class__ is str:
                run[-1] += text
            else:
                run.append(text)
        elif isinstance(node, VariableNode):
            token = node.filter_expression.token
            if token not in index_of:
                index_of[token] = len(variables)
                variables.append(node)
            run.append(index_of[token])
        else:
            close_run()
            plan.append((None, None, node))
    close_run()
    return plan


@lru_cache(maxsize=512)
def compile_template(source: str) -> Template:
    try:
        return SandboxTemplate(source, engine=sandbox_engine())
    except TemplateSyntaxError as exc:
        raise DomainError(f"The template cannot be read: {exc}", code="template_syntax")


def check_template(source: str, *, field_name: str) -> None:
    """Raise DomainError naming the field when a template does not compile in the sandbox."""
    try:
        compile_template(source)
    except DomainError as exc:
        raise DomainError(f"{field_name}: {exc.message}", code="template_syntax", extra={"field": field_name})


@dataclass(frozen=True)
class DynamicBlockRule:
    """A block shown to contacts holding any of `tag_names`, in any of `segment_ids` or interested in any of
    `topic_ids` (none of the three: everyone)."""

    slot: str
    html: str
    text: str = ""  # the same block for the plain-text body; generated from the HTML when empty
    tag_names: frozenset[str] = frozenset()
    segment_ids: frozenset[int] = frozenset()
    position: int = 0
    topic_ids: frozenset[int] = frozenset()

    def matches(self, tags: frozenset[str], segment_ids: frozenset[int], topic_ids: frozenset[int]) -> bool:
        if not self.tag_names and not self.segment_ids and not self.topic_ids:
            return True
        return bool(self.tag_names & tags) or bool(self.segment_ids & segment_ids) or bool(self.topic_ids & topic_ids)


@dataclass
class Recipient:
    """What rendering knows of one contact, gathered in bulk by the caller."""

    email: str
    first_name: str = ""
    last_name: str = ""
    job_title: str = ""
    city: str = ""
    country: str = ""
    company_name: str = ""
    company_domain: str = ""
    custom: dict = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    segment_ids: frozenset[int] = frozenset()
    segment_names: tuple[str, ...] = ()
    topic_ids: frozenset[int] = frozenset()
    topic_slugs: tuple[str, ...] = ()
    contact_id: int | None = None

    @classmethod
    def from_contact(cls, contact, *, tags=(), segment_ids=(), segment_names=(), topics=()) -> Recipient:
        """`topics` are (id, slug) pairs."""
        company = contact.company
        return cls(
            email=contact.email, first_name=contact.first_name, last_name=contact.last_name,
            job_title=contact.job_title, city=contact.city, country=contact.country,
            company_name=company.name if company else "", company_domain=company.domain if company else "",
            custom=dict(contact.custom_fields or {}), tags=frozenset(tags), segment_ids=frozenset(segment_ids),
            segment_names=tuple(segment_names), topic_ids=frozenset(pk for pk, _slug in topics),
            topic_slugs=tuple(sorted(slug for _pk, slug in topics)), contact_id=contact.pk,
        )


@dataclass
class RenderedEmail:
    subject: str
    preheader: str
    html: str
    text: str


def _blocks_for(recipient: Recipient, blocks: list[DynamicBlockRule], context_values: dict) -> tuple[dict, dict]:
    """The chosen blocks of each slot, as HTML and as plain text."""
    from publishing.email.plaintext import html_to_text

    html_parts: dict[str, list[str]] = {}
    text_parts: dict[str, list[str]] = {}
    for block in sorted(blocks, key=lambda b: (b.slot, b.position)):
        if block.matches(recipient.tags, recipient.segment_ids, recipient.topic_ids):
            html = compile_template(block.html).render(Context(context_values, autoescape=True))
            html_parts.setdefault(block.slot, []).append(html)
            text = (compile_template(block.text).render(Context(context_values, autoescape=False)) if block.text
                    else html_to_text(html))
            text_parts.setdefault(block.slot, []).append(text.strip())
    # Block bodies are written by the marketer and rendered with autoescape on, so joining them is safe.
    return ({slot: mark_safe("\n".join(parts)) for slot, parts in html_parts.items()},  # noqa: S308
            {slot: "\n\n".join(parts) for slot, parts in text_parts.items()})


def recipient_context(recipient: Recipient, *, campaign_name: str, unsubscribe_url: str,
                      view_in_browser_url: str = "", push_allow_url: str = "",
                      brand: dict | TemplateData | None = None) -> dict:
    """`brand`: the brand kit's values, best made into TemplateData once per send (composing.content_of)."""
    contact = {
        "first_name": recipient.first_name, "last_name": recipient.last_name,
        "full_name": " ".join(p for p in (recipient.first_name, recipient.last_name) if p),
        "email": recipient.email, "job_title": recipient.job_title, "city": recipient.city,
        "country": recipient.country,
        "company": {"name": recipient.company_name, "domain": recipient.company_domain},
        "custom": recipient.custom, "tags": tuple(sorted(recipient.tags)), "segments": recipient.segment_names,
        "topics": recipient.topic_slugs,
    }
    return {"contact": TemplateData(contact), "campaign": TemplateData({"name": campaign_name}),
            "unsubscribe_url": unsubscribe_url, "view_in_browser_url": view_in_browser_url,
            "push_allow_url": push_allow_url,
            "brand": brand if isinstance(brand, TemplateData) else TemplateData(brand or {})}


def render_email(*, subject: str, preheader: str, html: str, text: str, recipient: Recipient,
                 campaign_name: str, unsubscribe_url: str, view_in_browser_url: str = "",
                 push_allow_url: str = "", blocks: list[DynamicBlockRule] | None = None,
                 brand: dict | TemplateData | None = None) -> RenderedEmail:
    from publishing.email.plaintext import html_to_text

    values = recipient_context(recipient, campaign_name=campaign_name, unsubscribe_url=unsubscribe_url,
                               view_in_browser_url=view_in_browser_url, push_allow_url=push_allow_url,
                               brand=brand)
    html_blocks, text_blocks = _blocks_for(recipient, blocks or [], values)
    html_out = compile_template(html).render(Context({**values, "blocks": TemplateData(html_blocks)},
                                                     autoescape=True)) if html else ""
    # Subject and text are not HTML: escaping there would show "&amp;" to the reader.
    plain = Context({**values, "blocks": TemplateData(text_blocks)}, autoescape=False)
    subject_out = " ".join(compile_template(subject).render(plain).split())
    preheader_out = " ".join(compile_template(preheader).render(plain).split()) if preheader else ""
    text_out = compile_template(text).render(plain) if text.strip() else html_to_text(html_out)
    return RenderedEmail(subject=subject_out, preheader=preheader_out, html=html_out, text=text_out)
