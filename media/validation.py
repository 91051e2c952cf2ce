"""Checks an uploaded file before it becomes an asset, without trusting its name.

Images: only the JPEG, PNG, WebP and GIF decoders are tried, the size is read from the header and
refused before any pixel is decoded, and every GIF frame descriptor is read from the file's own
structure (no decoding) so a frame larger than the canvas or the pixel limit is refused. Other
kinds: libmagic and a walk through the file's structure (media/filetypes.py). Each refusal says why.
"""

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from aicmo_site.errors import DomainError
from media.choices import AssetKindChoices, OrientationChoices
from media.conf import media_setting
from media.filetypes import HEAD_BYTES, NotWhatItSeems, other_kind, verify_structure
from media.hashing import difference_hash

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# EXIF orientations 5 to 8 turn the picture a quarter: width and height swap when displayed.
_QUARTER_TURNS = {5, 6, 7, 8}


@dataclass(frozen=True)
class CheckedFile:
    """What the checks found. `content` holds the bytes of an image (small, already read); for
    video, audio and documents it is None and the upload is stored by streaming it."""

    kind: str
    mime_type: str
    extension: str
    sha256: str
    size_bytes: int
    content: bytes | None = None
    width: int | None = None
    height: int | None = None
    orientation: str = ""
    perceptual_hash: str = ""


def _refuse(message: str, code: str, **extra) -> DomainError:
    return DomainError(message, code, extra)


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<?xml") or text.startswith(b"<svg") or b"<svg" in text[:1024]


def gif_frame_sizes(content: bytes) -> tuple[tuple[int, int], list[tuple[int, int, int, int]]]:
    """The logical screen and each frame's (left, top, width, height), read from the block structure."""
    if len(content) < 13:
        raise ValueError("truncated header")
    screen = struct.unpack("<HH", content[6:10])
    packed = content[10]
    pos = 13 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)
    frames = []
    while pos < len(content):
        block = content[pos]
        if block == 0x3B:
            break
        if block == 0x21:
            pos += 2
        elif block == 0x2C:
            if pos + 10 > len(content):
                raise ValueError("truncated frame descriptor")
            frames.append(struct.unpack("<HHHH", content[pos + 1 : pos + 9]))
            local = content[pos + 9]
            pos += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:
            raise ValueError(f"unknown block 0x{block:02x}")
        while pos < len(content) and content[pos]:
            pos += content[pos] + 1
        pos += 1
    return screen, frames


def _check_gif_frames(content: bytes, max_pixels: int) -> None:
    try:
        (screen_w, screen_h), frames = gif_frame_sizes(content)
    except ValueError as exc:
        raise _refuse(f"The GIF's structure is damaged ({exc}).", "damaged_image")
    if len(frames) > media_setting("MEDIA_MAX_GIF_FRAMES"):
        raise _refuse(
            f"The GIF has {len(frames)} frames; at most {media_setting('MEDIA_MAX_GIF_FRAMES')} are allowed.",
            "too_many_frames", frames=len(frames),
        )
    # The publish rendition keeps every frame (media.renditions), each decoded onto the whole canvas.
    animation_limit = media_setting("MEDIA_MAX_ANIMATION_PIXELS")
    if len(frames) > 1 and len(frames) * screen_w * screen_h > animation_limit:
        raise _refuse(
            f"The GIF's {len(frames)} frames of {screen_w}×{screen_h} add up to more than "
            f"{animation_limit:,} pixels; shorten or shrink the animation.",
            "animation_too_large", frames=len(frames),
        )
    for number, (left, top, width, height) in enumerate(frames, start=1):
        if width * height > max_pixels or left + width > screen_w or top + height > screen_h:
            raise _refuse(
                f"GIF frame {number} is {width}×{height} at ({left}, {top}), beyond the {screen_w}×{screen_h} "
                f"canvas or the {max_pixels:,}-pixel limit.",
                "frame_too_large", frame=number, width=width, height=height,
            )


def _check_image(content: bytes) -> CheckedFile:
    max_pixels = media_setting("MEDIA_MAX_IMAGE_PIXELS")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content), formats=list(IMAGE_FORMATS))
            # Only the header has been read: the size is known, no pixel is decoded yet.
            width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(f"The image has more than {max_pixels:,} pixels.", "too_many_pixels")
    except Exception:
        raise _refuse(
            "The file is not a JPEG, PNG, WebP or GIF image (its content was checked, not its name).",
            "unsupported_type",
        )
    if width * height > max_pixels:
        raise _refuse(
            f"The image is {width}×{height} ({width * height:,} pixels); the limit is {max_pixels:,} pixels.",
            "too_many_pixels", width=width, height=height,
        )
    if image.format == "GIF":
        _check_gif_frames(content, max_pixels)
    if image.getexif().get(0x0112) in _QUARTER_TURNS:
        width, height = height, width
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.draft("L", (64, 64))
            phash = difference_hash(ImageOps.exif_transpose(image))
    except Exception:
        raise _refuse("The image data is damaged and cannot be read.", "damaged_image")
    orientation = (
        OrientationChoices.SQUARE if width == height
        else OrientationChoices.LANDSCAPE if width > height else OrientationChoices.PORTRAIT
    )
    extension = {"JPEG": "jpg"}.get(image.format, image.format.lower())
    return CheckedFile(
        content=content, size_bytes=len(content), kind=AssetKindChoices.IMAGE,
        mime_type=IMAGE_FORMATS[image.format], extension=extension,
        sha256=hashlib.sha256(content).hexdigest(), width=width, height=height, orientation=orientation,
        perceptual_hash=phash,
    )


_BYTE_LIMITS = {
    AssetKindChoices.IMAGE: "MEDIA_MAX_IMAGE_BYTES",
    AssetKindChoices.VIDEO: "MEDIA_MAX_VIDEO_BYTES",
    AssetKindChoices.AUDIO: "MEDIA_MAX_AUDIO_BYTES",
    AssetKindChoices.DOCUMENT: "MEDIA_MAX_DOCUMENT_BYTES",
}


def _check_size(kind: str, size: int) -> None:
    limit = media_setting(_BYTE_LIMITS[kind])
    if size > limit:
        raise _refuse(
            f"The {kind} is {size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB.",
            "file_too_large", size_bytes=size, limit_bytes=limit,
        )


def _size_of(file) -> int:
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    return size


def _streamed_sha256(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def check_upload(file) -> CheckedFile:
    """Check an uploaded file from its content; raise DomainError saying why it is refused.
    Sizes are checked before the body is read, and only images are read into memory."""
    size = _size_of(file)
    file.seek(0)
    head = file.read(HEAD_BYTES)
    if not head:
        raise _refuse("The file is empty.", "empty_file")
    if _looks_like_svg(head):
        raise _refuse("SVG files are refused: they can carry scripts.", "svg_refused")
    other = other_kind(head)
    if other:
        kind, mime_type, extension, _check = other
        _check_size(kind, size)
        try:
            verify_structure(file, size, head, other)
        except NotWhatItSeems as exc:
            raise _refuse(f"The file is not what it seems: {exc}.", "not_what_it_seems")
        return CheckedFile(kind=kind, mime_type=mime_type, extension=extension, sha256=_streamed_sha256(file),
                           size_bytes=size)
    _check_size(AssetKindChoices.IMAGE, size)
    file.seek(0)
    return _check_image(file.read())
