"""What renditions an image gets, and how they are made with Pillow.

A JPEG is decoded once, at the smallest scale (`Image.draft`, 1/2 to 1/8 in the decoder) that still
covers the largest rendition, so memory and time follow the outputs rather than the camera. Every
output is a fresh image saved with no metadata: no EXIF (GPS), XMP, IPTC, ICC profile or comments,
the EXIF orientation applied to the pixels first. A GIF's publish rendition stays a GIF with every
frame and its timing (an animation is not published as a still), without comments or XMP.
"""

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageSequence

from media.choices import RenditionFormatChoices
from media.cleaning import jpeg_without_metadata
from media.conf import media_setting
from media.validation import IMAGE_FORMATS

THUMBNAIL_BOX = 320
# The whole picture, upright and without metadata: what channels and public pages are given instead of
# the original upload, whose EXIF may hold where it was taken, the camera's serial and its owner.
PUBLISH = "publish"
# Channel image sizes from PROVIDERS.md §7.
CHANNEL_PRESETS = {
    "instagram_square": (1080, 1080),
    "instagram_portrait": (1080, 1350),
    "linkedin_link": (1200, 627),
    "x_card": (1600, 900),
    "open_graph": (1200, 630),
}
# Renditions keep the original's format, except GIF: a still frame is a PNG.
_OUTPUT_FORMAT = {
    "JPEG": RenditionFormatChoices.JPEG,
    "PNG": RenditionFormatChoices.PNG,
    "WEBP": RenditionFormatChoices.WEBP,
    "GIF": RenditionFormatChoices.PNG,
}
_SAVE_OPTIONS = {
    RenditionFormatChoices.JPEG: {"format": "JPEG", "quality": 85},
    RenditionFormatChoices.PNG: {"format": "PNG", "compress_level": 6},
    # Method 2, not 4: at 12 MP the WebP encodes were half of a photo's renditions; method 2 takes 0.45x
    # the time for files 1-2% larger at the same quality (PSNR within 0.1 dB; bench/NOTES.md).
    RenditionFormatChoices.WEBP: {"format": "WEBP", "quality": 80, "method": 2},
}


@dataclass(frozen=True)
class Target:
    preset: str
    format: str
    width: int
    height: int
    crop: bool = False


@dataclass(frozen=True)
class Output:
    target: Target
    content: bytes


def plan_renditions(*, source_format: str, width: int, height: int) -> list[Target]:
    """The renditions for an image of this (displayed) size; responsive widths are never upscaled."""
    original = _OUTPUT_FORMAT[source_format]
    scale = min(1.0, THUMBNAIL_BOX / max(width, height))
    publish_format = RenditionFormatChoices.GIF if source_format == "GIF" else original
    targets = [Target("thumbnail", original, max(1, round(width * scale)), max(1, round(height * scale))),
               Target(PUBLISH, publish_format, width, height)]
    for target_width in sorted(media_setting("MEDIA_RESPONSIVE_WIDTHS")):
        if target_width >= width:
            continue
        target_height = max(1, round(height * target_width / width))
        for fmt in dict.fromkeys([original, RenditionFormatChoices.WEBP]):
            targets.append(Target(f"w{target_width}", fmt, target_width, target_height))
    for preset in media_setting("MEDIA_CHANNEL_PRESETS"):
        preset_width, preset_height = CHANNEL_PRESETS[preset]
        targets.append(Target(preset, original, preset_width, preset_height, crop=True))
    return targets


def channel_copy(renditions, *, max_bytes: int | None = None, max_pixels: int | None = None):
    """The copy of the whole picture to give a channel with these limits: the publish rendition when it fits,
    else the largest responsive width in its format that does (the same picture, fewer pixels, no metadata);
    None when none fits or the publish rendition is not made yet. Same format only: an animated GIF is not
    swapped for a still, nor a JPEG for a WebP a channel may refuse."""
    publish = next((rendition for rendition in renditions if rendition.preset == PUBLISH), None)
    if publish is None:
        return None
    whole = [publish, *(rendition for rendition in renditions if rendition.format == publish.format
                        and rendition.preset.startswith("w") and rendition.preset[1:].isdigit())]
    fitting = [rendition for rendition in whole
               if (max_bytes is None or rendition.size_bytes <= max_bytes)
               and (max_pixels is None or rendition.width * rendition.height <= max_pixels)]
    return max(fitting, key=lambda rendition: rendition.width * rendition.height, default=None)


def aspect_fitted_size(width: int, height: int, *, narrowest: float, widest: float) -> tuple[int, int] | None:
    """The largest size inside width×height whose shape a channel accepting ratios `narrowest` to `widest`
    (width / height) takes, or None when this shape is accepted already. Rounded down, so the result is
    within the range rather than a pixel outside it."""
    if width / height > widest:
        return max(1, math.floor(height * widest)), height
    if width / height < narrowest:
        return width, max(1, math.floor(width / narrowest))
    return None


def aspect_preset(narrowest: float, widest: float) -> str:
    """The rendition preset of the copies cropped into this range of shapes."""
    return f"within-{narrowest:g}-{widest:g}"


def focal_crop_box(width: int, height: int, *, aspect: float, focal_x: float, focal_y: float) -> tuple:
    """The largest box of the given aspect ratio, centred on the focal point as far as the edges allow."""
    if width / height > aspect:
        crop_w, crop_h = height * aspect, float(height)
    else:
        crop_w, crop_h = float(width), width / aspect
    left = min(max(focal_x * width - crop_w / 2, 0.0), width - crop_w)
    top = min(max(focal_y * height - crop_h / 2, 0.0), height - crop_h)
    return (left, top, left + crop_w, top + crop_h)


def _needed_scale(targets: list[Target], width: int, height: int) -> float:
    needed = 0.0
    for target in targets:
        if target.crop:
            needed = max(needed, min(1.0, max(target.width / width, target.height / height)))
        else:
            needed = max(needed, target.width / width, target.height / height)
    return min(needed, 1.0)


def _open_for(source, targets: list[Target]) -> Image.Image:
    image = Image.open(source, formats=list(IMAGE_FORMATS))
    quarter_turn = image.getexif().get(0x0112) in {5, 6, 7, 8}
    raw_w, raw_h = image.size
    shown_w, shown_h = (raw_h, raw_w) if quarter_turn else (raw_w, raw_h)
    scale = _needed_scale(targets, shown_w, shown_h)
    if image.format == "JPEG" and scale < 1.0:
        image.draft("RGB", (math.ceil(raw_w * scale), math.ceil(raw_h * scale)))
    # In place: an upright photo (most) is then not copied once more after its decode.
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    if fmt == RenditionFormatChoices.JPEG and image.mode != "RGB":
        image = image.convert("RGB")
    # A clean info dict means no EXIF, XMP, ICC profile or comment is carried into the file. The frames are
    # render()'s own, so this is set on them in place rather than on a copy of their pixels.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, **_SAVE_OPTIONS[fmt])
    return buffer.getvalue()


def _rewind(source) -> None:
    if hasattr(source, "seek"):  # a file read once already; a path is opened afresh
        source.seek(0)


def _read(source) -> bytes:
    _rewind(source)
    if hasattr(source, "read"):
        return source.read()
    with open(source, "rb") as handle:
        return handle.read()


def _copied_without_metadata(source, targets: list[Target]) -> list[Output]:
    """The publish rendition of an upright RGB or greyscale JPEG, as its own compressed data without the
    metadata segments: no decode and no re-encode (at 12 MP those were 40% of a photo's renditions), and
    the very pixels of the original. Nothing when the picture must be turned or converted first, or its
    structure is unusual; render() then decodes it like any other."""
    publish = next((target for target in targets if target.preset == PUBLISH
                    and target.format == RenditionFormatChoices.JPEG), None)
    if publish is None:
        return []
    _rewind(source)
    image = Image.open(source, formats=list(IMAGE_FORMATS))
    if (image.format != "JPEG" or image.mode not in ("RGB", "L") or image.getexif().get(0x0112, 1) != 1
            or image.size != (publish.width, publish.height)):
        return []
    content = jpeg_without_metadata(_read(source))
    if content is None:
        return []
    copy = Image.open(io.BytesIO(content), formats=["JPEG"])
    if (copy.size, copy.mode) != (image.size, image.mode):
        return []
    return [Output(publish, content)]


def _animation(source) -> bytes:
    """Every frame of a GIF, with its duration, disposal and the loop count, into a new GIF that
    carries no comment, XMP or application extension but the loop. The frames are read twice (timings
    first, then pixels) so only one decoded frame is held at a time besides the encoder's own."""
    _rewind(source)
    original = Image.open(source, formats=["GIF"])
    durations, disposals = [], []
    for frame in ImageSequence.Iterator(original):
        durations.append(frame.info.get("duration", 100))
        disposals.append(getattr(frame, "disposal_method", 0))
    loop = original.info.get("loop")

    def frames():
        for frame in ImageSequence.Iterator(original):
            pixels = frame.convert("RGBA")
            pixels.info = {}
            yield pixels

    sequence = frames()
    first = next(sequence)
    options = {"format": "GIF", "save_all": True, "append_images": sequence, "duration": durations,
               "disposal": disposals, "optimize": False}
    if loop is not None:
        options["loop"] = loop
    buffer = io.BytesIO()
    first.save(buffer, **options)
    return buffer.getvalue()


def render(source, targets: list[Target], *, focal_x: float = 0.5, focal_y: float = 0.5) -> list[Output]:
    """Make each target from one decode of the source (a path or a binary file)."""
    animated = [target for target in targets if target.format == RenditionFormatChoices.GIF]
    targets = [target for target in targets if target.format != RenditionFormatChoices.GIF]
    wanted = {target: number for number, target in enumerate(animated + targets)}
    outputs = [Output(target, _animation(source)) for target in animated]
    outputs += _copied_without_metadata(source, targets)
    targets = [target for target in targets if target not in {output.target for output in outputs}]
    if not targets:
        return outputs
    _rewind(source)
    image = _open_for(source, targets)
    width, height = image.size
    # Largest first, each whole-picture size from the smallest picture made so far that covers it: a
    # Lanczos resize costs by the pixels it reads, and 640 from 1280 reads a third of what 640 from the
    # 2000-wide decode does. The original-format and WebP renditions of one width share a single resize.
    resized: dict[tuple[int, int], Image.Image] = {}
    for target in sorted(targets, key=lambda target: (target.crop, -target.width * target.height)):
        size = (target.width, target.height)
        if target.crop:
            box = focal_crop_box(width, height, aspect=target.width / target.height, focal_x=focal_x, focal_y=focal_y)
            frame = image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)
        elif (frame := resized.get(size)) is None:
            larger = [made for made in resized.values() if made.width >= size[0] and made.height >= size[1]]
            start = min(larger, key=lambda made: made.width * made.height, default=image)
            frame = resized[size] = start.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        outputs.append(Output(target, _encode(frame, target.format)))
    return sorted(outputs, key=lambda output: wanted[output.target])
