"""Real video, audio and PDF files carrying a location and an author, made for a test by ffmpeg and
pypdf (nothing binary is kept in the repository)."""

import io
import shutil
import subprocess
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

LOCATION = "+48.8584+002.2945/"
AUTHOR = "Secret Author"
SECRETS = (b"48.8584", AUTHOR.encode(), b"Secret Cam")
_SOURCES = {
    "mov": ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
            "-c:v", "mpeg4", "-c:a", "aac", "-metadata:s:v", "handler_name=Secret Cam"],
    "mp4": ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-c:v", "mpeg4",
            "-movflags", "+use_metadata_tags"],
    "mp3": ["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libmp3lame"],
    "ogg": ["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libvorbis"],
    "wav": ["-f", "lavfi", "-i", "sine=duration=1"],
}


def has_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


def recording(extension: str, folder: Path) -> bytes:
    """A one-second recording tagged with where it was made and by whom."""
    path = folder / f"recording.{extension}"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", *_SOURCES[extension], "-metadata", f"location={LOCATION}",
                    "-metadata", f"artist={AUTHOR}", "-metadata", f"comment=GPS {LOCATION}", str(path)], check=True)
    content = path.read_bytes()
    assert any(secret in content for secret in SECRETS)
    return content


def pdf_with_metadata() -> bytes:
    """A two-page PDF with an author in its Info dictionary and a GPS position in its XMP packets."""
    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": AUTHOR, "/Producer": "Secret Cam"})
    xmp = DecodedStreamObject()
    xmp.set_data(f"<x:xmpmeta><exif:GPSLatitude>{LOCATION}</exif:GPSLatitude></x:xmpmeta>".encode())
    xmp.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    writer.root_object[NameObject("/Metadata")] = writer._add_object(xmp)  # noqa: SLF001 - no public way
    writer.pages[0][NameObject("/Metadata")] = writer._add_object(xmp)  # noqa: SLF001
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
