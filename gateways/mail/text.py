"""Plain text out of a received message: the body a person wrote, without quotes of earlier mail."""

from __future__ import annotations

import re
from email.message import EmailMessage
from html.parser import HTMLParser

_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}

# Lines that introduce the quoted earlier message in the clients people use (Gmail, Apple Mail,
# Thunderbird, Outlook) in English, French, German, Spanish and Dutch.
_ATTRIBUTION = re.compile(
    r"^\s*(On\s.+wrote:|Le\s.+a\sécrit\s?:|Am\s.+schrieb.*:|El\s.+escribió:|Op\s.+schreef.*:)\s*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Message d'origine|Ursprüngliche Nachricht|Mensaje original)\s*-{2,}"
    r"|_{10,}|From:\s.+)\s*$",
    re.IGNORECASE,
)
_SIGNATURE = "-- "


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._quote = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "head"):
            self._skip += 1
        if tag == "blockquote":
            self._quote += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head"):
            self._skip = max(0, self._skip - 1)
        if tag == "blockquote":
            self._quote = max(0, self._quote - 1)
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            # Quoted mail in HTML replies sits in <blockquote>; mark it like a plain-text quote.
            self.parts.append(("> " + data) if self._quote and data.strip() else data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [" ".join(line.split()) for line in "".join(extractor.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def body_text(message: EmailMessage) -> str:
    """The message's text: its text/plain part, else its HTML part turned into text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        content = part.get_payload(decode=True).decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        return html_to_text(content)
    return content.replace("\r\n", "\n").strip()


def strip_quoted(text: str) -> str:
    """What the replying person wrote: stop at the quoted earlier message or the signature."""
    kept: list[str] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        # Clients wrap a long attribution ("On Mon, 23 Nov 2026 at 10:00, Ann <ann@...>\nwrote:").
        with_next = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        if line == _SIGNATURE or _ATTRIBUTION.match(line) or _ATTRIBUTION.match(with_next) \
                or _SEPARATOR.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()
