"""Turning one delivery into the message that goes on the wire: personalised body, tracked links,
open pixel, Message-ID, RFC 8058 headers and a per-recipient unsubscribe link."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from functools import cached_property

from django.db import transaction
from django.urls import reverse

from aicmo_site.installation import installation_identifier
from crm.services.push import push_allow_url
from gateways.capabilities import OutgoingEmail
from publishing.email import conf
from publishing.email.brand import brand_values
from publishing.email.layouts import template_html_source
from publishing.email.models import EmailBlock, EmailCampaign, EmailLink
from publishing.email.plaintext import html_to_text
from publishing.email.rendering import DynamicBlockRule, Recipient, RenderedEmail, TemplateData, render_email
from publishing.email.tokens import make_bounce_tag, make_token, signature

# href="..." or href='...' of an <a> tag; the URL is HTML-escaped in the rendered body.
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_BODY_START = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def tracking_url(kind: str, token: str) -> str:
    return f"{conf.public_base_url()}/{kind}/{token}"


def unsubscribe_url(delivery_id: int) -> str:
    return tracking_url("u", make_token("unsubscribe", delivery_id))


def message_id_for(delivery_id: int, campaign_id: int, *, installation: str | None = None) -> str:
    """Deterministic, so a retried delivery keeps its Message-ID, and unguessable from outside.

    The installation's identifier keeps it unique between installations sharing a SECRET_KEY (a staging
    copy restored from production numbers its deliveries from the same ids). Replies and bounces are
    matched by the Message-ID stored on the delivery, so those of earlier messages, written without it
    ("<delivery.campaign.tag@domain>"), still match."""
    installation = installation or installation_identifier()
    tag = signature("aicmo.email.message-id", f"{installation}.{delivery_id}.{campaign_id}")[:10]
    return f"<{delivery_id}.{campaign_id}.{installation}.{tag}@{conf.message_id_domain()}>"


def list_unsubscribe_headers(delivery_id: int) -> dict[str, str]:
    token = make_token("unsubscribe", delivery_id)
    mailto = f"mailto:{conf.unsubscribe_mailto()}?subject=unsubscribe-{token}"
    return {
        "List-Unsubscribe": f"<{tracking_url('u', token)}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


class LinkBook:
    """The campaign's link table, cached per worker: each URL gets one row, made on first sight."""

    def __init__(self, campaign_id: int):
        self.campaign_id = campaign_id
        self._ids: dict[str, int] = {}

    def ids_for(self, urls: set[str]) -> dict[str, int]:
        missing = {url for url in urls if url not in self._ids}
        if missing:
            with transaction.atomic():
                EmailLink.objects.bulk_create(
                    [EmailLink(campaign_id=self.campaign_id, url=url, url_hash=_url_hash(url)) for url in missing],
                    ignore_conflicts=True,
                )
            by_hash = {_url_hash(url): url for url in missing}
            for link_id, url_hash in EmailLink.objects.filter(campaign_id=self.campaign_id,
                                                              url_hash__in=list(by_hash)).values_list("id", "url_hash"):
                self._ids[by_hash[url_hash]] = link_id
        return {url: self._ids[url] for url in urls}


def _trackable(url: str) -> bool:
    base = conf.public_base_url()
    return url.lower().startswith(("http://", "https://")) and not url.startswith(f"{base}/u/")


def hrefs_in(html_body: str) -> list[tuple[int, int, str]]:
    """(start, end, URL) of each <a href>: where its value lies in the body, and the URL it gives. Found
    once per message, for the link table and for tracking: scanning the ~10 kB body twice was about a
    tenth of composing a message."""
    return [(match.start(3), match.end(3), html.unescape(match.group(3)).strip())
            for match in _HREF.finditer(html_body)]


def trackable_urls(hrefs: list[tuple[int, int, str]]) -> set[str]:
    return {url for _start, _end, url in hrefs if _trackable(url)}


def track_links(html_body: str, *, delivery_id: int, link_ids: dict[str, int],
                hrefs: list[tuple[int, int, str]] | None = None) -> str:
    """Each href whose URL is in `link_ids` pointed at its click tracking URL (`hrefs`: hrefs_in's, when
    already found)."""
    parts, written = [], 0
    for start, end, url in hrefs_in(html_body) if hrefs is None else hrefs:
        if url in link_ids:
            parts += (html_body[written:start], tracking_url("t/c", make_token("click", delivery_id, link_ids[url])))
            written = end
    parts.append(html_body[written:])
    return "".join(parts)


def add_open_pixel(html_body: str, delivery_id: int) -> str:
    pixel = (f'<img src="{tracking_url("t/o", make_token("open", delivery_id))}" width="1" height="1" alt="" '
             'style="display:block;border:0;width:1px;height:1px">')
    end = _BODY_END.search(html_body)
    if end:
        return html_body[:end.start()] + pixel + html_body[end.start():]
    return html_body + pixel


def add_preheader(html_body: str, preheader: str) -> str:
    if not preheader:
        return html_body
    hidden = (f'<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">{html.escape(preheader)}'
              "</div>")
    match = _BODY_START.search(html_body)
    if match:
        return html_body[:match.end()] + hidden + html_body[match.end():]
    return hidden + html_body


@dataclass
class Content:
    """What one variant (or the plain campaign) sends: the sources, before personalisation."""

    subject: str
    preheader: str
    html: str
    text: str
    blocks: list[DynamicBlockRule] = field(default_factory=list)
    brand: TemplateData | None = None

    # Cached: asked for every message, and searching the ~10 kB sources each time took about a tenth of
    # a worker's CPU (cProfile). A Content is built once per send and never changed.
    @cached_property
    def uses_tags(self) -> bool:
        """Whether rendering can depend on a contact's tags: a block chosen by tag, or a template naming
        `contact.tags`. Templates reach data only through names written in them (no lookup by a computed
        name), so a source without "tags" cannot read them."""
        sources = (self.subject, self.preheader, self.html, self.text,
                   *(part for block in self.blocks for part in (block.html, block.text)))
        return any(block.tag_names for block in self.blocks) or any("tags" in source for source in sources)

    @cached_property
    def uses_push_link(self) -> bool:
        """Whether a source names `push_allow_url`: the link is signed per message only then."""
        return any("push_allow_url" in source for source in (
            self.subject, self.preheader, self.html, self.text,
            *(part for block in self.blocks for part in (block.html, block.text))))


def blocks_of(template_id: int) -> list[DynamicBlockRule]:
    blocks = EmailBlock.objects.filter(template_id=template_id).prefetch_related("tags", "segments", "topics")
    return [DynamicBlockRule(slot=b.slot, html=b.html, position=b.position,
                             tag_names=frozenset(t.name for t in b.tags.all()),
                             segment_ids=frozenset(s.pk for s in b.segments.all()),
                             topic_ids=frozenset(t.pk for t in b.topics.all())) for b in blocks]


def content_of(template, *, subject_override: str = "", preheader_override: str = "") -> Content:
    """The body in its layout and compiled from MJML once per send, not per message. A blank text body is
    generated once from that HTML *source* (template tags survive the conversion), so each message renders
    a text template instead of parsing its own HTML again."""
    html_source = template_html_source(template)
    return Content(subject=subject_override or template.subject, preheader=preheader_override or template.preheader,
                   html=html_source, text=template.text_body or html_to_text(html_source),
                   blocks=blocks_of(template.pk), brand=TemplateData(brand_values()))


def render_for(content: Content, recipient: Recipient, *, campaign_name: str, delivery_id: int | None) -> RenderedEmail:
    unsubscribe = unsubscribe_url(delivery_id) if delivery_id else f"{conf.public_base_url()}/u/preview"
    # A preview or test send goes to colleagues: its link must not tie their browser to the contact.
    push_allow = (push_allow_url(recipient.contact_id) if delivery_id and recipient.contact_id
                  else conf.public_base_url() + reverse("crm:push-allow", args=["preview"])) \
        if content.uses_push_link else ""
    return render_email(subject=content.subject, preheader=content.preheader, html=content.html, text=content.text,
                        recipient=recipient, campaign_name=campaign_name, unsubscribe_url=unsubscribe,
                        push_allow_url=push_allow, blocks=content.blocks, brand=content.brand)


def outgoing_for(*, email_campaign: EmailCampaign, rendered: RenderedEmail, to: str, delivery_id: int,
                 link_ids: dict[str, int], hrefs: list[tuple[int, int, str]] | None = None) -> OutgoingEmail:
    body = track_links(rendered.html, delivery_id=delivery_id, link_ids=link_ids, hrefs=hrefs)
    body = add_open_pixel(add_preheader(body, rendered.preheader), delivery_id)
    return OutgoingEmail(
        to=to, subject=rendered.subject, text=rendered.text, html=body, from_email=email_campaign.sender,
        reply_to=email_campaign.reply_to, headers=list_unsubscribe_headers(delivery_id),
        message_id=message_id_for(delivery_id, email_campaign.campaign_id),
        return_path_tag=make_bounce_tag(delivery_id),
    )
