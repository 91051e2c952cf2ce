"""Automated checks before approval: computed from the content as it is now, each pass, warn or fail
with its reason, shown on the content page, in the approver's inbox and by the API.

Links are fetched by a worker (publishing.links, services.checks) and read here from its report; an Admin
chooses which failures block approval (models.BlockingCheck) and the reading level each kind of content
aims at (models.ReadabilityTarget); a segment the content is aimed at may set its own (Segment.reading_grade), and
a campaign may set one over both (Campaign.reading_grade)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import textstat
from django.template.defaultfilters import filesizeformat

from crm.models import Segment
from media.renditions import PUBLISH, aspect_fitted_size, channel_copy
from publishing.choices import ContentKind
from publishing.formatters import formatter_for, markdown_to_text
from publishing.links import content_links
from publishing.models import Content, LinkReport, ReadabilityTarget

PASS, WARN, FAIL = "pass", "warn", "fail"

# Phrases that spam filters score, from the lists mail services publish for senders (Mailchimp's
# "avoid spam filters", HubSpot's spam-trigger list): a few are normal, several together are not.
SPAM_PHRASES = (
    "100% free", "act now", "apply now", "as seen on", "buy direct", "cash bonus", "click here", "click below",
    "congratulations", "dear friend", "double your", "earn extra cash", "eliminate debt", "extra income",
    "fast cash", "for only", "free gift", "free money", "get paid", "guaranteed", "increase sales",
    "limited time", "lowest price", "make money", "million dollars", "miracle", "no catch", "no cost",
    "no credit check", "no obligation", "once in a lifetime", "order now", "risk-free", "risk free",
    "special promotion", "this isn't spam", "urgent", "winner", "you have been selected", "100% satisfied",
)
SPAM_WARN, SPAM_FAIL = 1, 3
CAPS_WARN, CAPS_FAIL = 0.15, 0.3  # share of words (3+ letters) in capitals
MIN_WORDS_FOR_CAPS = 5
_WORDS = re.compile(r"[^\W\d_]{3,}")
_BANGS = re.compile(r"!{3,}|(?:!\s*){3,}")
_UNSUBSCRIBE = re.compile(r"\{\{\s*unsubscribe_url\s*\}\}|unsubscribe", re.IGNORECASE)
# A street address (a number then a street word) or a postcode of a common form: CAN-SPAM asks for a
# valid postal address in commercial email; finding none is a warning, as a footer may add it.
_POSTAL = re.compile(
    r"\b\d{1,5}\s+\w+(?:\s+\w+)?\s+(?:street|st\.?|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|lane|ln\.?|way|"
    r"drive|dr\.?|place|pl\.?|square|sq\.?|court|ct\.?|rue|strasse|straße|weg|platz)\b"
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\b\d{5}(?:-\d{4})?\b|\bP\.?\s?O\.?\s+Box\b",
    re.IGNORECASE,
)
# Flesch-Kincaid grade each kind of content aims at unless an Admin sets another: plain-language guides
# (plainlanguage.gov, Mailchimp's style guide) put mass audiences at grade 8-9; long reads for specialists
# may ask more. A grade up to READABILITY_WARN_MARGIN above the target warns, further fails.
DEFAULT_READABILITY_GRADES = {
    ContentKind.EMAIL: 9, ContentKind.SOCIAL_POST: 9, ContentKind.LANDING_PAGE: 9, ContentKind.PRODUCT_UPDATE: 10,
    ContentKind.BLOG_POST: 10, ContentKind.WEBINAR: 10, ContentKind.CASE_STUDY: 12, ContentKind.WHITEPAPER: 14,
}
READABILITY_WARN_MARGIN = 3
# Below this many words the Flesch formulas swing with every word: the text is not scored.
READABILITY_MIN_WORDS = 30
# Flesch's (1948) bands of reading ease.
_EASE_BANDS = ((90, "very easy"), (80, "easy"), (70, "fairly easy"), (60, "plain English"),
               (50, "fairly difficult"), (30, "difficult"), (float("-inf"), "very difficult"))


@dataclass(frozen=True)
class CheckResult:
    key: str
    label: str
    outcome: str  # pass, warn or fail
    reason: str

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "outcome": self.outcome, "reason": self.reason}


def readability_targets() -> dict[str, int]:
    """The highest grade level accepted per kind of content: the defaults, with the Admin's choices."""
    return {**DEFAULT_READABILITY_GRADES, **dict(ReadabilityTarget.objects.values_list("kind", "max_grade"))}


def segment_reading_grades() -> dict[int, tuple[str, int]]:
    """The segments that set a reading grade of their own: id -> (name, grade)."""
    return {pk: (name, grade) for pk, name, grade in Segment.objects.filter(reading_grade__isnull=False)
            .values_list("pk", "name", "reading_grade")}


def reading_target(content: Content, *, targets: dict[str, int],
                   segment_grades: dict[int, tuple[str, int]]) -> tuple[int, str]:
    """The grade the content must not exceed, and whose target it is. A campaign that sets a grade knows its
    readers best, so its grade wins over everything; else a segment its campaigns' audiences name that sets a
    grade is who the content is written for, so its grade wins over the kind's (a whitepaper for the general
    public reads as plainly as an email). Of several, the lowest, as every one of them reads it."""
    campaigns = [(campaign.name, campaign.reading_grade) for campaign in content.campaigns.all()
                 if campaign.reading_grade is not None]
    if campaigns:
        name, grade = min(campaigns, key=lambda item: (item[1], item[0]))
        return grade, f"the campaign {name}"
    aimed = [segment_grades[int(pk)] for campaign in content.campaigns.all()
             for pk in (campaign.audience or {}).get("segment_ids", ()) if int(pk) in segment_grades]
    if aimed:
        name, grade = min(aimed, key=lambda item: (item[1], item[0]))
        return grade, f"the segment {name}"
    return targets[content.kind], ContentKind(content.kind).label


def content_checks(content: Content, *, targets: dict[str, int] | None = None,
                   segment_grades: dict[int, tuple[str, int]] | None = None) -> list[CheckResult]:
    """Every check of the content and its versions (prefetch `versions__media__renditions`, `media` and
    `campaigns` for lists, and pass `targets` and `segment_grades`, from readability_targets() and
    segment_reading_grades(), read once for them all)."""
    versions = list(content.versions.all())
    targets = readability_targets() if targets is None else targets
    segment_grades = segment_reading_grades() if segment_grades is None else segment_grades
    max_grade, audience = reading_target(content, targets=targets, segment_grades=segment_grades)
    subject = content.title
    text = "\n\n".join(part for part in (content.summary, markdown_to_text(content.body)) if part)
    email = content.kind == ContentKind.EMAIL
    results = [
        spam_words_check(subject, text, email=email),
        shouting_check(subject, text, email=email),
        readability_check(text, max_grade=max_grade, audience=audience),
        alt_text_check(content, versions),
        image_size_check(versions),
        channel_fit_check(versions),
        links_report_check(content, versions),
    ]
    utm = utm_check(content, versions)
    if utm is not None:
        results.append(utm)
    if email:
        results += [unsubscribe_check(content.body), postal_address_check(content.body)]
    return results


def spam_words_check(subject: str, text: str, *, email: bool) -> CheckResult:
    found = [phrase for phrase in SPAM_PHRASES if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)",
                                                              f"{subject}\n{text}", re.IGNORECASE)]
    label = "Spam-trigger words"
    if not found:
        return CheckResult("spam_words", label, PASS, "None found.")
    outcome = FAIL if email and len(found) >= SPAM_FAIL else WARN
    return CheckResult("spam_words", label, outcome, f"Found {len(found)}: {', '.join(found)}.")


def shouting_check(subject: str, text: str, *, email: bool) -> CheckResult:
    label = "Capitals and exclamation marks"
    problems, worst = [], PASS
    for where, value in (("subject" if email else "title", subject), ("text", text)):
        words = _WORDS.findall(value)
        share = _shouted_share(words) if len(words) >= MIN_WORDS_FOR_CAPS else 0.0
        if share >= CAPS_WARN:
            problems.append(f"{share:.0%} of the words of the {where} are in capitals")
            worst = FAIL if share >= CAPS_FAIL and email else _max(worst, WARN)
        if _BANGS.search(value):
            problems.append(f"the {where} has “!!!”")
            worst = FAIL if email and where == "subject" else _max(worst, WARN)
    if not problems:
        return CheckResult("shouting", label, PASS, "No shouting.")
    return CheckResult("shouting", label, worst, "; ".join(problems).capitalize() + ".")


def _shouted_share(words: list[str]) -> float:
    """Share of words in capitals, counting a short one (API, CRM, FREE) only beside another in capitals:
    acronyms alone are not shouting, "FREE MONEY" is."""
    upper = [word.isupper() for word in words]
    shouted = sum(
        1 for i, word in enumerate(words)
        if upper[i] and (len(word) >= 5 or (i > 0 and upper[i - 1]) or (i + 1 < len(words) and upper[i + 1]))
    )
    return shouted / len(words)


def readability_check(text: str, *, max_grade: int, audience: str) -> CheckResult:
    """`audience`: whose target `max_grade` is (a kind of content, or a segment)."""
    label = "Readability for the audience"
    words = textstat.lexicon_count(text)
    if words < READABILITY_MIN_WORDS:
        return CheckResult("readability", label, PASS,
                           f"Not scored: {words} words is too short for the reading-level formulas.")
    grade = round(textstat.flesch_kincaid_grade(text), 1)
    ease = round(textstat.flesch_reading_ease(text), 1)
    band = next(name for floor, name in _EASE_BANDS if ease >= floor)
    reason = (f"Grade level {grade}, reading ease {ease} ({band}); the target for {audience} is grade "
              f"{max_grade} or below.")
    if grade <= max_grade:
        return CheckResult("readability", label, PASS, reason)
    outcome = WARN if grade <= max_grade + READABILITY_WARN_MARGIN else FAIL
    return CheckResult("readability", label, outcome, reason + " Use shorter sentences and everyday words.")


def image_size_check(versions) -> CheckResult:
    """Each image of each channel version against what its channel accepts. The channel is sent the
    image's "publish" rendition (media.services.asset_public_url): same pixels as the upload, without
    metadata; when that copy is over the channel's size or pixel limit, the largest smaller copy within them
    (media.renditions.channel_copy), and the check passes with a note saying so. Until the copies are made
    the upload stands in, and being over only warns, as a copy may come out within the limits."""
    label = "Image sizes for the channel"
    problems, notes, worst, counted = [], [], PASS, 0
    for version in versions:
        formatter = formatter_for(version.kind)
        for asset in version.media.all():
            if not asset.is_image:
                continue
            counted += 1
            for outcome, problem in _image_problems(asset, formatter):
                (notes if outcome == PASS else problems).append(f"{asset} on {formatter.label}: {problem}")
                worst = _max(worst, outcome)
    if not counted:
        return CheckResult("image_size", label, PASS, "No images attached to the channel versions.")
    if not problems:
        reason = f"All {counted} images fit their channels."
        return CheckResult("image_size", label, PASS, f"{reason} {'; '.join(notes[:5])}." if notes else reason)
    return CheckResult("image_size", label, worst, "; ".join((problems + notes)[:5]) + ".")


def _limits(formatter) -> str:
    limits = []
    if formatter.image_max_bytes is not None:
        limits.append(filesizeformat(formatter.image_max_bytes))
    if formatter.image_max_pixels is not None:
        limits.append(f"{formatter.image_max_pixels:,} pixels")
    return " and ".join(limits)


def _image_problems(asset, formatter) -> list[tuple[str, str]]:
    problems = []
    if formatter.image_max_bytes is not None or formatter.image_max_pixels is not None:
        problems += _too_big(asset, formatter)
    if formatter.image_aspect is not None:
        if not (asset.width and asset.height):
            return [*problems, (WARN, "its pixel size is not known yet")]
        problems += _shape_problems(asset, formatter.image_aspect)
    return problems


def _shape_problems(asset, aspect: tuple[float, float]) -> list[tuple[str, str]]:
    """A still image of a shape the channel refuses is sent cropped to the nearest shape it takes, around the
    focal point (media.services.asset_public_url): a warning, as part of the picture is lost. Cropped rather
    than padded: the networks fill their frames edge to edge, so bars would show as bars, and the marketer's
    focal point already says what must stay in. An animation is not cropped, so it fails."""
    narrowest, widest = aspect
    ratio = asset.width / asset.height
    size = aspect_fitted_size(asset.width, asset.height, narrowest=narrowest, widest=widest)
    if size is None:
        return []
    shape = (f"its shape ({asset.width}×{asset.height}, ratio {ratio:.2f}) is outside the channel's "
             f"{narrowest:g} to {widest:g}")
    if asset.mime_type == "image/gif":
        return [(FAIL, f"{shape}, and an animation is not cropped")]
    return [(WARN, f"{shape}, so a copy cropped around its focal point to {size[0]}×{size[1]} (ratio "
                   f"{size[0] / size[1]:.2f}) is sent")]


def _too_big(asset, formatter) -> list[tuple[str, str]]:
    """Whether what is sent fits the channel's bytes and pixels: (PASS, note) when a smaller copy is sent."""
    max_bytes, max_pixels = formatter.image_max_bytes, formatter.image_max_pixels
    renditions = list(asset.renditions.all())
    publish = next((r for r in renditions if r.preset == PUBLISH), None)
    if publish is None:
        over = []
        if max_bytes is not None and asset.size_bytes > max_bytes:
            over.append(f"the upload is {filesizeformat(asset.size_bytes)}")
        if max_pixels is not None and asset.width and asset.height and asset.width * asset.height > max_pixels:
            over.append(f"{asset.width}×{asset.height} is {asset.width * asset.height:,} pixels")
        if max_pixels is not None and not (asset.width and asset.height):
            over.append("its pixel size is not known yet")
        if not over:
            return []
        return [(WARN, f"{' and '.join(over)}, the channel takes at most {_limits(formatter)} (the copies made for "
                       "publishing are not ready yet; a smaller one is sent if it fits)")]
    copy = channel_copy(renditions, max_bytes=max_bytes, max_pixels=max_pixels)
    sent = f"{publish.width}×{publish.height}, {filesizeformat(publish.size_bytes)}"
    if copy is None:
        return [(FAIL, f"the copy sent is {filesizeformat(publish.size_bytes)} ({publish.width}×{publish.height}), "
                       f"the channel takes at most {_limits(formatter)}, and no smaller copy fits")]
    if copy.pk != publish.pk:
        return [(PASS, f"the full-size copy ({sent}) is over the channel's {_limits(formatter)}, so a "
                       f"{copy.width}×{copy.height} copy of {filesizeformat(copy.size_bytes)} is sent instead")]
    return []


def alt_text_check(content: Content, versions) -> CheckResult:
    label = "Alt text on images"
    images = {asset.pk: asset for asset in content.media.all() if asset.is_image}
    for version in versions:
        images.update({asset.pk: asset for asset in version.media.all() if asset.is_image})
    missing = [asset for asset in images.values() if not asset.alt_text.strip()]
    if not images:
        return CheckResult("alt_text", label, PASS, "No images attached.")
    if missing:
        names = ", ".join(str(asset) for asset in missing[:5])
        return CheckResult("alt_text", label, FAIL,
                           f"{len(missing)} of {len(images)} images have no alt text: {names}.")
    return CheckResult("alt_text", label, PASS, f"All {len(images)} images have alt text.")


def channel_fit_check(versions) -> CheckResult:
    label = "Channel fit"
    if not versions:
        return CheckResult("channel_fit", label, PASS, "No channel versions yet.")
    # The formatter's rules directly (services.version_errors without a day): the approval service reads
    # these checks, so they must not import the services back.
    errors = [error for version in versions
              for error in formatter_for(version.kind).validate(version, media_count=len(version.media.all()))]
    if errors:
        return CheckResult("channel_fit", label, FAIL, " ".join(errors))
    kinds = ", ".join(formatter_for(version.kind).label for version in versions)
    return CheckResult("channel_fit", label, PASS, f"Fits {kinds}.")


def links_report_check(content: Content, versions) -> CheckResult:
    """The worker's last link check (select_related `link_report` for lists); links added since are not
    checked yet, and never shown as working."""
    label = "Links"
    links = content_links(content, versions)
    if not links:
        return CheckResult("links", label, PASS, "No links.")
    try:
        report = content.link_report
    except LinkReport.DoesNotExist:
        report = None
    done = report is not None and report.status == LinkReport.Status.DONE
    checked = {item["url"]: item for item in report.results} if done else {}
    unchecked = [url for url in links if url not in checked]
    broken = [checked[url] for url in links if url in checked and not checked[url]["ok"]]
    if broken:
        named = "; ".join(f"{item['url']} ({item['error']})" for item in broken[:5])
        return CheckResult("links", label, FAIL, f"{len(broken)} broken: {named}.")
    if unchecked:
        return CheckResult("links", label, WARN, f"Not checked yet ({len(unchecked)} of {len(links)} links).")
    moved = [checked[url] for url in links if checked[url]["final_url"] and checked[url]["final_url"] != url]
    reason = f"All {len(links)} links work."
    if moved:
        reason += " Redirected: " + "; ".join(f"{item['url']} → {item['final_url']}" for item in moved[:5]) + "."
    return CheckResult("links", label, PASS, reason)


def utm_check(content: Content, versions) -> CheckResult | None:
    """Only for content in a campaign that asks for UTM parameters (prefetch `campaigns` for lists)."""
    asking = [campaign for campaign in content.campaigns.all() if campaign.utm_enabled]
    if not asking:
        return None
    label, names = "UTM parameters", ", ".join(campaign.name for campaign in asking)
    lacking = [url for url in content_links(content, versions) if "utm_" not in urlsplit(url).query]
    if not lacking:
        return CheckResult("utm", label, PASS, f"Every link has them, as {names} asks.")
    if content.kind == ContentKind.EMAIL:
        return CheckResult("utm", label, WARN, f"{len(lacking)} links lack the UTM parameters {names} asks for: "
                                               f"{', '.join(lacking[:5])}.")
    return CheckResult("utm", label, PASS, f"{len(lacking)} links lack them here; they are added to the posts "
                                           f"{names} publishes.")


def unsubscribe_check(body: str) -> CheckResult:
    if _UNSUBSCRIBE.search(body):
        return CheckResult("unsubscribe", "Unsubscribe link", PASS, "The email has an unsubscribe link.")
    return CheckResult("unsubscribe", "Unsubscribe link", FAIL,
                       "No unsubscribe link: add one with {{ unsubscribe_url }} (Gmail and Yahoo require it).")


def postal_address_check(body: str) -> CheckResult:
    if _POSTAL.search(body):
        return CheckResult("postal_address", "Postal address", PASS, "A postal address was found.")
    return CheckResult("postal_address", "Postal address", WARN,
                       "No postal address found; commercial email must show one (CAN-SPAM), unless the "
                       "template's footer adds it.")


def _max(a: str, b: str) -> str:
    order = (PASS, WARN, FAIL)
    return max(a, b, key=order.index)


def worst_outcome(results: list[CheckResult]) -> str:
    worst = PASS
    for result in results:
        worst = _max(worst, result.outcome)
    return worst
