"""Metadata-free copies of video, audio and PDF files, for what is published.

A phone's video holds where it was shot (QuickTime `©xyz`, `location`), an MP3 its ID3 tags, a PDF
its author, producer and XMP packet. Channels and public pages get a copy without them:

- Video and audio: ffmpeg (Debian's, scripts/system-deps.sh) copies the audio and video streams as
  they are (`-c copy`: no re-encoding, so no quality loss and about the time of a file copy) into a
  new container with no global, stream or chapter metadata and no data or subtitle streams (camera
  telemetry such as GPS tracks travels in data streams).
- PDF: pypdf rewrites the document without its Info dictionary and without any XMP `/Metadata`
  stream, the catalogue's and each page's or object's alike; a JPEG image inside it (a scanned or
  photographed page) keeps its pixels as they are but loses its EXIF/XMP (APP1) and IPTC (APP13)
  segments, where a camera writes its position and serial number.

A file that cannot be cleaned raises MetadataNotRemovable: it is then not published at all.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject

from media.filetypes import ffmpeg_input

# JPEG segments that carry metadata: APP1 (EXIF, XMP) and APP13 (IPTC, Photoshop). APP0 (JFIF), APP2
# (the colour profile) and APP14 (Adobe's colour transform) say how to read the pixels and stay.
_JPEG_METADATA_MARKERS = {0xE1, 0xED}
# Markers with no length field: TEM, the restart markers, SOI.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD9)}
# What a decoder needs: frame headers, Huffman and arithmetic tables, quantisation tables, restart
# interval, scan headers, line count, hierarchical progression.
_JPEG_DECODING_MARKERS = {*range(0xC0, 0xD0), 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF}
# APP0 to APP15 and comments: metadata (what APP0 and APP14 must keep is rebuilt or checked above).
_JPEG_DROPPED_MARKERS = {*range(0xE0, 0xF0), 0xFE}

# Our extension -> ffmpeg's muxer, and which streams are kept.
_MUXERS = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mp3": "mp3", "wav": "wav", "ogg": "ogg"}
_AUDIO_ONLY = {"mp3", "wav", "ogg"}
FFMPEG_TIMEOUT_SECONDS = 300


class MetadataNotRemovable(Exception):
    """The file's metadata could not be removed (the message says why)."""


def can_clean(extension: str) -> bool:
    return extension in _MUXERS or extension == "pdf"


def cleaned_copy(source, extension: str) -> bytes:
    """The bytes of a metadata-free copy of `source` (a binary file) of the given type."""
    if extension == "pdf":
        return _clean_pdf(source)
    return _clean_with_ffmpeg(source, extension)


def _clean_pdf(source) -> bytes:
    try:
        writer = PdfWriter(clone_from=PdfReader(source))
        writer.metadata = None  # no Info dictionary (Author, Creator, Producer, dates) in the trailer
        for obj in writer._objects:  # noqa: SLF001 - pypdf offers no public walk over every object
            if isinstance(obj, DictionaryObject):
                for key in ("/Metadata", "/PieceInfo"):
                    obj.pop(NameObject(key), None)
            if isinstance(obj, StreamObject) and _is_jpeg_image(obj):
                # The encoded bytes are the JPEG file itself; pypdf only re-encodes Flate streams.
                obj._data = strip_jpeg_metadata(obj._data)  # noqa: SLF001
        # The XMP streams no longer referenced are dropped, not written out as orphans.
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        buffer = io.BytesIO()
        writer.write(buffer)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise MetadataNotRemovable(f"the PDF could not be rewritten: {error}") from error
    return buffer.getvalue()


def _is_jpeg_image(stream: StreamObject) -> bool:
    filters = stream.get("/Filter")
    filters = list(filters) if isinstance(filters, ArrayObject) else [filters]
    return stream.get("/Subtype") == "/Image" and filters == ["/DCTDecode"]


def _jpeg_header_segments(data: bytes, position: int = 2):
    """(marker, bytes) of each segment from `position` (just after the start of image, or where a scan's
    compressed data ended) up to and including the next start of scan (SOS), and the offset where that
    scan's compressed data begins. ValueError when the header is damaged or truncated."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("is not a JPEG file")
    segments = []
    while position < len(data):
        if data[position] != 0xFF:
            raise ValueError("has a damaged JPEG header")
        marker = data[position + 1] if position + 1 < len(data) else -1
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            segments.append((marker, data[position:position + 2]))
            position += 2
            continue
        end = position + 2 + int.from_bytes(data[position + 2:position + 4], "big")
        if position + 4 > len(data) or end > len(data):
            raise ValueError("has a truncated JPEG header")
        segments.append((marker, data[position:end]))
        position = end
        if marker == 0xDA:
            return segments, position
    raise ValueError("has a truncated JPEG header")


def strip_jpeg_metadata(data: bytes) -> bytes:
    """The JPEG without its APP1 and APP13 segments, pixels untouched (no re-encoding)."""
    try:
        segments, scan = _jpeg_header_segments(data)
    except ValueError as error:
        raise MetadataNotRemovable(f"an image in the PDF {error}") from error
    return b"".join([data[:2], *(segment for marker, segment in segments if marker not in _JPEG_METADATA_MARKERS),
                     data[scan:]])


def jpeg_without_metadata(data: bytes) -> bytes | None:
    """A JPEG file made of `data`'s own compressed pixels and the segments needed to decode them: no APP
    segment (EXIF, XMP, IPTC, ICC profile, a JFIF or camera thumbnail) but a bare JFIF header and Adobe's
    colour transform, no comment, and nothing after the image's end (a phone's second pictures follow it,
    each with its own EXIF). None when the file is damaged or of a kind this does not know."""
    pieces, position = [data[:2]], 2
    try:
        while True:
            segments, scan = _jpeg_header_segments(data, position)
            for marker, segment in segments:
                if marker in _JPEG_DECODING_MARKERS:
                    pieces.append(segment)
                elif marker == 0xE0 and segment[4:9] == b"JFIF\x00" and len(segment) >= 16:
                    pieces.append(b"\xff\xe0\x00\x10" + segment[4:16] + b"\x00\x00")
                elif marker == 0xEE and segment[4:9] == b"Adobe" and len(segment) == 16:
                    pieces.append(segment)
                elif marker not in _JPEG_DROPPED_MARKERS:
                    return None
            position = _jpeg_scan_end(data, scan)
            if position is None:
                return None
            pieces.append(data[scan:position])
            if data[position + 1] == 0xD9:  # end of image
                return b"".join([*pieces, b"\xff\xd9"])
    except ValueError:
        return None


def _jpeg_scan_end(data: bytes, position: int) -> int | None:
    """Where the marker after a scan's compressed data starts (None if there is none). In that data 0xFF
    is always followed by 0x00 (a data byte) or a restart marker, and fill bytes (0xFF) may precede a marker.
    bytes.find, not a regular expression: 0.2 ms against 6.7 ms on the bench's 12 MP photo."""
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return None
        following = data[position + 1]
        if following == 0 or 0xD0 <= following <= 0xD7:
            position += 2
        elif following == 0xFF:
            position += 1
        else:
            return position


def _clean_with_ffmpeg(source, extension: str) -> bytes:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise MetadataNotRemovable("ffmpeg is not installed (scripts/system-deps.sh)")
    streams = ["-map", "0:a"] if extension in _AUDIO_ONLY else ["-map", "0:v", "-map", "0:a?"]
    with tempfile.TemporaryDirectory(prefix="aicmo-clean-") as folder:
        original, copy = Path(folder) / f"original.{extension}", Path(folder) / f"clean.{extension}"
        with original.open("wb") as handle:
            shutil.copyfileobj(source, handle)
        command = [
            ffmpeg, "-nostdin", "-v", "error", *ffmpeg_input(str(original), extension), *streams, "-dn", "-sn",
            "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1", "-c", "copy",
            # bitexact: no "encoder" tag or other muxer signature written into the copy
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-f", _MUXERS[extension], str(copy),
        ]
        try:
            run = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as error:
            raise MetadataNotRemovable("ffmpeg took too long") from error
        if run.returncode != 0 or not copy.exists() or not copy.stat().st_size:
            reason = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise MetadataNotRemovable(f"ffmpeg could not copy it: {reason[0][:200]}")
        return copy.read_bytes()
