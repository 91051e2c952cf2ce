"""A dark-mode look at an email, kept simple and said plainly.

The preview emulates a mail app that honours the email's own dark styles: the page is given
`color-scheme: dark` (so what the email leaves unset turns dark, as in Apple Mail) and the rules of its
`@media (prefers-color-scheme: dark)` blocks are applied. Apps that invert every colour by themselves
(Gmail's apps, Outlook) are not emulated: a test send shows those.

The check reads the rendered HTML and flags two things that go wrong in dark mode:
- text whose colour the email sets to a dark shade while nothing behind it sets a background: when the
  app darkens the background the text stays dark (contrast below 3:1 against #121212);
- images of the asset library without transparent pixels: they show as a light box on a dark
  background. JPEGs never have any. Images from elsewhere are not fetched, so they are listed as not
  checked rather than passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from django.conf import settings
from PIL import Image

from media.models import Asset
from publishing.email import conf

DARK_BACKGROUND = (0x12, 0x12, 0x12)
MIN_CONTRAST = 3.0  # WCAG 2's floor for large text: below it, text is hard to make out
PASS, WARN, NOT_CHECKED = "pass", "warn", "not_checked"

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SKIPPED = {"style", "script", "head", "title"}
_HEX = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})\b", re.IGNORECASE)
_RGB = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)", re.IGNORECASE)
_NAMED = {"black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128), "grey": (128, 128, 128),
          "navy": (0, 0, 128), "maroon": (128, 0, 0), "red": (255, 0, 0), "blue": (0, 0, 255),
          "green": (0, 128, 0), "purple": (128, 0, 128)}
_DARK_MEDIA = re.compile(r"@media[^{]*prefers-color-scheme\s*:\s*dark[^{]*\{", re.IGNORECASE)


@dataclass(frozen=True)
class DarkModeFinding:
    key: str
    outcome: str  # pass, warn or not_checked
    message: str


def parse_colour(value: str) -> tuple[int, int, int] | None:
    value = (value or "").strip().lower()
    if match := _HEX.search(value):
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    if match := _RGB.search(value):
        return tuple(min(255, int(part)) for part in match.groups())
    return _NAMED.get(value.split(" ")[0].rstrip(";")) if value else None


def _luminance(rgb) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _style(attrs: dict) -> dict[str, str]:
    declarations = {}
    for part in (attrs.get("style") or "").split(";"):
        name, _, value = part.partition(":")
        if value.strip():
            declarations[name.strip().lower()] = value.strip()
    return declarations


def _sets_background(attrs: dict, style: dict) -> bool:
    values = [style.get("background-color", ""), style.get("background", ""), attrs.get("bgcolor") or ""]
    return any(value and value.lower() not in {"none", "transparent", "inherit", "initial"} for value in values)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        # (tag, text colour or None, whether a background is set here or above)
        self.stack: list[tuple[str, tuple | None, bool]] = [("", None, False)]
        self.skipping = 0
        self.vanishing: dict[str, int] = {}
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _SKIPPED:
            self.skipping += 1
        if tag == "img":
            if attrs.get("src") and not (attrs.get("width") == "1" and attrs.get("height") == "1"):
                self.images.append(attrs["src"])
            return
        if tag in _VOID:
            return
        style = _style(attrs)
        _, colour, background = self.stack[-1]
        own = parse_colour(style.get("color") or attrs.get("color") or "")
        self.stack.append((tag, own or colour, background or _sets_background(attrs, style)))

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        if any(open_tag == tag for open_tag, _, _ in self.stack[1:]):
            while self.stack[-1][0] != tag:
                self.stack.pop()
            self.stack.pop()

    def handle_data(self, data):
        _, colour, background = self.stack[-1]
        if self.skipping or not data.strip() or colour is None or background:
            return
        if contrast(colour, DARK_BACKGROUND) < MIN_CONTRAST:
            key = "#{:02x}{:02x}{:02x}".format(*colour)
            self.vanishing[key] = self.vanishing.get(key, 0) + 1


def _library_asset(src: str) -> Asset | None:
    prefix = f"{conf.public_base_url()}{settings.MEDIA_URL}"
    if not src.startswith(prefix):
        return None
    return Asset.objects.filter(file=src.removeprefix(prefix)).first()


def has_transparency(file) -> bool:
    with Image.open(file) as image:
        if image.mode == "P" and "transparency" in image.info:
            image = image.convert("RGBA")
        if "A" not in image.getbands():
            return False
        low, _high = image.getchannel("A").getextrema()
        return low < 255


def _image_finding(src: str) -> DarkModeFinding:
    name = src.rsplit("/", 1)[-1][:80]
    asset = _library_asset(src)
    if asset is None:
        if src.lower().split("?")[0].endswith((".jpg", ".jpeg")):
            return DarkModeFinding("image", WARN, f"{name}: a JPEG has no transparent background; it shows as a "
                                                  "box on a dark background.")
        return DarkModeFinding("image", NOT_CHECKED, f"{name}: not from the asset library, so not checked.")
    with asset.file.open("rb") as file:
        transparent = has_transparency(file)
    if transparent:
        return DarkModeFinding("image", PASS, f"“{asset.name}” has a transparent background.")
    return DarkModeFinding("image", WARN, f"“{asset.name}” has no transparent background; it shows as a box on a "
                                          "dark background.")


def dark_mode_findings(html: str) -> list[DarkModeFinding]:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    findings = [DarkModeFinding("text", WARN, f"Text in {colour} ({count} place{'s' if count != 1 else ''}) has no "
                                              f"background of its own: on a dark background its contrast is "
                                              f"{contrast(parse_colour(colour), DARK_BACKGROUND):.1f}:1.")
                for colour, count in sorted(reader.vanishing.items())]
    if not findings:
        findings.append(DarkModeFinding("text", PASS, "No dark text without a background of its own."))
    findings.extend(_image_finding(src) for src in dict.fromkeys(reader.images))
    return findings


def _dark_rules(css: str) -> str:
    """The rules inside each `@media (prefers-color-scheme: dark)` block, unwrapped."""
    out, position = [], 0
    while match := _DARK_MEDIA.search(css, position):
        depth, end = 1, match.end()
        while depth and end < len(css):
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        out.append(css[match.end():end - 1])
        position = end
    return "\n".join(out)


def dark_preview(html: str) -> str:
    """The email as a mail app in dark mode that honours its dark styles shows it (see the module's notes)."""
    css = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.IGNORECASE | re.DOTALL))
    injected = f"<style>:root {{ color-scheme: dark; }}\n{_dark_rules(css)}</style>"
    head_end = re.search(r"</head\s*>", html, flags=re.IGNORECASE)
    if head_end:
        return html[:head_end.start()] + injected + html[head_end.start():]
    return injected + html
