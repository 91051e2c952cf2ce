"""What a video, audio or document upload is, from its content: libmagic (python-magic) names the
type from the start of the file, then the file's own structure is walked to its end, so a file that
only starts like an MP3, an MP4 or a PDF (HTML behind a few magic bytes: a polyglot) is refused.

- MP4 and QuickTime: the ISO base media boxes tile the whole file, each with a printable type.
- MP3: MPEG audio frames follow one another from the start (after an ID3v2 tag) to the end, an
  ID3v1 tag or a last, cut-off frame aside.
- WAV: the RIFF size is the file's, and its chunks tile it. Ogg: the pages tile the file.
- PDF: parsed to its end by pypdf: the header at the very start, the cross-reference table found from
  the end, every object it lists read, at least one page, and nothing but whitespace after the last
  end-of-file marker (HTML appended to a PDF, or a PDF cut off, is refused).
- WebM: the EBML elements tile the file: an EBML header, then a Segment whose children (the
  elements a WebM segment may hold) tile it; a Segment or Cluster of unknown size (a live recording,
  as browsers write them) is walked into instead of skipped.
And for every kind, no HTML in the first kilobytes, where a browser that sniffs would look.
Video and audio are then read by ffmpeg's own demuxer for that container, pinned (never guessed, so
no playlist or concat format can make it open another file or a URL), every packet from the first to
the last, and must hold a video stream (video) or an audio stream (audio): what the walks above do
not see (sample tables, codec headers, the streams themselves) is checked by the tool that will make
its metadata-free publish copy (media/cleaning.py). Without ffmpeg installed that step is skipped,
the walks decide alone, and the file is never published (no clean copy can be made).
"""

from __future__ import annotations

import logging
import shutil
import struct
import subprocess
import tempfile

import magic
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import IndirectObject

from media.choices import AssetKindChoices

logger = logging.getLogger(__name__)
HEAD_BYTES = 8192
# ffmpeg's demuxer for each container we accept.
DEMUXERS = {"mp4": "mov", "mov": "mov", "webm": "matroska", "mp3": "mp3", "wav": "wav", "ogg": "ogg"}
# Reading every packet of a 500 MB video takes seconds; this is for a file built to make it hang.
DEMUX_TIMEOUT_SECONDS = 300
_HTML_MARKERS = (b"<html", b"<script", b"<!doctype", b"<body", b"<head", b"<iframe", b"<svg", b"<?xml",
                 b"<img", b"<a ", b"<meta", b"<object", b"<embed")
# libmagic's MIME type -> (kind, our MIME type, extension, structure check name).
KNOWN_TYPES = {
    "application/pdf": (AssetKindChoices.DOCUMENT, "application/pdf", "pdf", "pdf"),
    "video/mp4": (AssetKindChoices.VIDEO, "video/mp4", "mp4", "iso_boxes"),
    "video/quicktime": (AssetKindChoices.VIDEO, "video/quicktime", "mov", "iso_boxes"),
    "video/webm": (AssetKindChoices.VIDEO, "video/webm", "webm", "ebml"),
    "audio/mpeg": (AssetKindChoices.AUDIO, "audio/mpeg", "mp3", "mpeg_frames"),
    "audio/x-wav": (AssetKindChoices.AUDIO, "audio/wav", "wav", "riff_chunks"),
    "audio/wav": (AssetKindChoices.AUDIO, "audio/wav", "wav", "riff_chunks"),
    "audio/ogg": (AssetKindChoices.AUDIO, "audio/ogg", "ogg", "ogg_pages"),
    "application/ogg": (AssetKindChoices.AUDIO, "audio/ogg", "ogg", "ogg_pages"),
}


class NotWhatItSeems(ValueError):
    """The file starts like a known type but is not one to its end (the message says where)."""


def detected_type(head: bytes) -> str:
    """libmagic's MIME type for the start of a file; an MP3 behind an ID3v2 tag is named by what follows."""
    if head.startswith(b"ID3") and len(head) >= 10:
        return "audio/mpeg" if _mpeg_frame_length(head[_id3v2_size(head):][:4]) else "application/octet-stream"
    return magic.from_buffer(head, mime=True)


def other_kind(head: bytes) -> tuple[str, str, str, str] | None:
    """(kind, MIME type, extension, structure check) of an allowed video, audio or document type, as
    libmagic names the start of the file; None for anything else."""
    return KNOWN_TYPES.get(detected_type(head))


def verify_structure(file, size: int, head: bytes, known: tuple[str, str, str, str]) -> None:
    """NotWhatItSeems unless the file is, to its end, the type its start claims."""
    extension, check = known[2], known[3]
    lowered = head[:HEAD_BYTES].lower()
    if any(marker in lowered for marker in _HTML_MARKERS):
        raise NotWhatItSeems(f"it starts like {extension.upper()} but holds HTML")
    if check:
        _CHECKS[check](file, size)
    file.seek(0)
    if extension in DEMUXERS:
        _check_demuxes(file, extension, known[0])
        file.seek(0)


def ffmpeg_input(path: str, extension: str) -> list[str]:
    """ffmpeg's arguments to read `path` as the container `extension` names and as nothing else."""
    return ["-protocol_whitelist", "file", "-f", DEMUXERS[extension], "-i", path]


def _check_demuxes(file, extension: str, kind: str) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        logger.warning("ffmpeg is not installed (scripts/system-deps.sh): the %s upload is not demuxed", extension)
        return
    streams = "0:v" if kind == AssetKindChoices.VIDEO else "0:a"
    with tempfile.NamedTemporaryFile(prefix="aicmo-upload-", suffix=f".{extension}") as copy:
        path = file.temporary_file_path() if hasattr(file, "temporary_file_path") else None
        if path is None:  # held in memory (a small upload): ffmpeg needs a file it can seek in
            file.seek(0)
            shutil.copyfileobj(file, copy)
            copy.flush()
            path = copy.name
        # Streams copied to the null muxer: the container is parsed to its end, nothing is decoded.
        command = [ffmpeg, "-nostdin", "-v", "error", "-xerror", *ffmpeg_input(path, extension),
                   "-map", streams, "-c", "copy", "-f", "null", "-"]
        try:
            run = subprocess.run(command, capture_output=True, timeout=DEMUX_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as error:
            raise NotWhatItSeems(f"ffmpeg could not read it in {DEMUX_TIMEOUT_SECONDS} seconds") from error
    if run.returncode != 0:
        if b"matches no streams" in run.stderr:
            raise NotWhatItSeems(f"it holds no {'video' if streams == '0:v' else 'audio'} stream")
        last = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no reason given"]
        reason = last[0].replace(path, "the file")[:200]
        raise NotWhatItSeems(f"ffmpeg cannot read it as {extension.upper()} ({reason})")


def _read_at(file, offset: int, count: int) -> bytes:
    file.seek(offset)
    return file.read(count)


def _check_pdf(file, size: int) -> None:
    if not _read_at(file, 0, 5) == b"%PDF-":
        raise NotWhatItSeems("the PDF header is not at the start")
    tail = _read_at(file, max(0, size - 1024), 1024)
    end = tail.rfind(b"%%EOF")
    if end < 0:
        raise NotWhatItSeems("the PDF does not end with its end-of-file marker: it is cut off or something follows it")
    if tail[end + 5:].strip():
        raise NotWhatItSeems("something follows the PDF's end-of-file marker")
    file.seek(0)
    try:
        reader = PdfReader(file, strict=True)
        for number, generation in _listed_objects(reader):
            if reader.get_object(IndirectObject(number, generation, reader)) is None:
                raise NotWhatItSeems(f"the PDF object {number} it lists is missing")
        if not len(reader.pages):
            raise NotWhatItSeems("the PDF has no page")
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as error:
        raise NotWhatItSeems(f"the PDF cannot be read to its end ({error})") from error


def _listed_objects(reader: PdfReader):
    """(number, generation) of every object the cross-reference tables and streams list."""
    for generation, numbers in reader.xref.items():
        for number in numbers:
            yield number, generation
    for number in reader.xref_objStm:
        yield number, 0


def _check_iso_boxes(file, size: int) -> None:
    offset, first = 0, True
    while offset < size:
        header = _read_at(file, offset, 16)
        if len(header) < 8:
            raise NotWhatItSeems(f"a box header is cut off at byte {offset}")
        length, kind = struct.unpack(">I4s", header[:8])
        if first and kind != b"ftyp":
            raise NotWhatItSeems("the first box is not ftyp")
        if not all(32 <= byte < 127 or byte == 0xA9 for byte in kind):
            raise NotWhatItSeems(f"a box at byte {offset} has no valid type")
        if length == 1:
            if len(header) < 16:
                raise NotWhatItSeems(f"a box header is cut off at byte {offset}")
            length = struct.unpack(">Q", header[8:16])[0]
        elif length == 0:
            length = size - offset  # the last box runs to the end of the file
        if length < 8 or offset + length > size:
            raise NotWhatItSeems(f"the box {kind.decode('latin-1')!r} at byte {offset} does not fit the file")
        offset += length
        first = False


_MPEG_BITRATES = {  # kbit/s by (version is MPEG-1, layer) and bitrate index 1-14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame_length(header: bytes) -> int:
    """The length of the MPEG audio frame this 4-byte header starts, 0 when it is no valid header."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return 0
    version, layer_bits = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index, padding = header[2] >> 4, (header[2] >> 2) & 3, (header[2] >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return 0
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = _MPEG_BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    rate = _MPEG_RATES[version][rate_index]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    return (144 if layer == 2 or mpeg1 else 72) * bitrate // rate + padding


def _id3v2_size(head: bytes) -> int:
    """Bytes the ID3v2 tag at the start takes (header, syncsafe size and any footer)."""
    size = 0
    for byte in head[6:10]:
        size = (size << 7) | (byte & 0x7F)
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _check_mpeg_frames(file, size: int) -> None:
    start = _read_at(file, 0, 10)
    offset = _id3v2_size(start) if start.startswith(b"ID3") else 0
    frames = 0
    while offset < size:
        header = _read_at(file, offset, 4)
        if header[:3] == b"TAG" and size - offset == 128:
            break  # ID3v1 tag at the end
        length = _mpeg_frame_length(header)
        if not length:
            raise NotWhatItSeems(f"no MPEG audio frame at byte {offset}")
        if offset + length > size and frames:
            break  # the last frame was cut off, as recorders and editors sometimes leave it
        offset += length
        frames += 1
    if not frames:
        raise NotWhatItSeems("the file holds no MPEG audio frame")


def _check_riff_chunks(file, size: int) -> None:
    header = _read_at(file, 0, 12)
    declared = struct.unpack("<I", header[4:8])[0] + 8
    if header[:4] != b"RIFF" or header[8:12] != b"WAVE" or declared not in (size, size - 1):
        raise NotWhatItSeems("the RIFF size is not the file's")
    offset, seen = 12, set()
    while offset + 8 <= declared:
        kind, length = struct.unpack("<4sI", _read_at(file, offset, 8))
        if not all(32 <= byte < 127 for byte in kind) or offset + 8 + length > size:
            raise NotWhatItSeems(f"the chunk at byte {offset} does not fit the file")
        seen.add(kind)
        offset += 8 + length + (length & 1)
    if offset < declared - 1 or not {b"fmt ", b"data"} <= seen:
        raise NotWhatItSeems("the WAV chunks do not tile the file")


def _check_ogg_pages(file, size: int) -> None:
    offset = 0
    while offset < size:
        header = _read_at(file, offset, 27)
        if len(header) < 27 or header[:5] != b"OggS\x00":
            raise NotWhatItSeems(f"no Ogg page at byte {offset}")
        segments = _read_at(file, offset + 27, header[26])
        if len(segments) < header[26]:
            raise NotWhatItSeems(f"the Ogg page at byte {offset} is cut off")
        length = 27 + header[26] + sum(segments)
        if offset + length > size:
            raise NotWhatItSeems(f"the Ogg page at byte {offset} does not fit the file")
        offset += length


_EBML_HEADER, _SEGMENT, _CLUSTER, _VOID, _CRC32 = 0x1A45DFA3, 0x18538067, 0x1F43B675, 0xEC, 0xBF
# What a WebM Segment holds: SeekHead, Info, Tracks, Cluster, Cues, Chapters, Tags, Attachments.
_SEGMENT_CHILDREN = {0x114D9B74, 0x1549A966, 0x1654AE6B, _CLUSTER, 0x1C53BB6B, 0x1043A770, 0x1254C367,
                     0x1941A469, _VOID, _CRC32}


def _ebml_number(file, offset: int, longest: int, *, keep_marker: bool) -> tuple[int | None, int]:
    """An EBML variable-length number at `offset`: (value, its length); value None for "unknown size"."""
    first = _read_at(file, offset, 1)
    if not first or first[0] == 0:
        raise NotWhatItSeems(f"no EBML element at byte {offset}")
    length = 9 - first[0].bit_length()
    raw = _read_at(file, offset, length)
    if length > longest or len(raw) < length:
        raise NotWhatItSeems(f"no EBML element at byte {offset}")
    value = int.from_bytes(raw, "big")
    if keep_marker:
        return value, length
    value &= (1 << (7 * length)) - 1
    return (None if value == (1 << (7 * length)) - 1 else value), length


def _ebml_element(file, offset: int, size: int) -> tuple[int, int, int | None]:
    """(id, where its content starts, its content size or None when unknown)."""
    element, id_length = _ebml_number(file, offset, 4, keep_marker=True)
    content_size, size_length = _ebml_number(file, offset + id_length, 8, keep_marker=False)
    start = offset + id_length + size_length
    if content_size is not None and start + content_size > size:
        raise NotWhatItSeems(f"the EBML element at byte {offset} does not fit the file")
    return element, start, content_size


def _check_ebml(file, size: int) -> None:
    element, start, length = _ebml_element(file, 0, size)
    if element != _EBML_HEADER or length is None:
        raise NotWhatItSeems("the file does not start with an EBML header")
    offset, level, segments, in_open_cluster = start + length, 0, 0, False
    while offset < size:
        element, start, length = _ebml_element(file, offset, size)
        allowed = {_SEGMENT, _VOID, _CRC32} if level == 0 else _SEGMENT_CHILDREN
        if element not in allowed:
            if level == 1 and in_open_cluster and length is not None:
                offset = start + length  # a block or timecode of a cluster of unknown size
                continue
            raise NotWhatItSeems(f"the element at byte {offset} has no place in a WebM file")
        in_open_cluster = False
        if element == _SEGMENT:
            segments += 1
            level = 1  # the segment's children follow, whether its size is known or not
            if length is not None and start + length != size:
                raise NotWhatItSeems("something follows the WebM segment")
            offset = start
        elif length is None:
            if element != _CLUSTER:
                raise NotWhatItSeems(f"the element at byte {offset} has an unknown size")
            in_open_cluster, offset = True, start
        else:
            offset = start + length
    if not segments:
        raise NotWhatItSeems("the WebM file holds no segment")


_CHECKS = {"ebml": _check_ebml, "pdf": _check_pdf, "iso_boxes": _check_iso_boxes, "mpeg_frames": _check_mpeg_frames,
           "riff_chunks": _check_riff_chunks, "ogg_pages": _check_ogg_pages}
