"""Metadata-free copies of video, audio and PDF files, for what is published.

A phone's video holds where it was shot (QuickTime `©xyz`, `location`), an MP3 its ID3 tags, a PDF
its author, producer and XMP packet. Channels and public pages get a copy without them:

- Video and audio: ffmpeg (Debian's, scripts/system-deps.sh) copies the audio and video streams as
  they are (`-c copy`: no re-encoding, so no quality loss and about the time of a file copy) into a
  new container with no global, stream or chapter metadata and no data or subtitle streams (camera
  telemetry such as GPS tracks travels in data streams).
- PDF: pypdf rewrites the document without its Info dictionary and without any XMP `/Metadata`
  stream, the catalogue's and each page's or object's alike.

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
from pypdf.generic import DictionaryObject, NameObject

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
        # The XMP streams no longer referenced are dropped, not written out as orphans.
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        buffer = io.BytesIO()
        writer.write(buffer)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise MetadataNotRemovable(f"the PDF could not be rewritten: {error}") from error
    return buffer.getvalue()


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
            ffmpeg, "-nostdin", "-v", "error", "-i", str(original), *streams, "-dn", "-sn",
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
