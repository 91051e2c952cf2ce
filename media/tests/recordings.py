"""Real video, audio and PDF files carrying a location and an author, made for a test by ffmpeg and
pypdf (nothing binary is kept in the repository)."""

import io
import shutil
import subprocess
from pathlib import Path

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject, StreamObject

LOCATION = "+48.8584+002.2945/"
AUTHOR = "Secret Author"
SHOT_AT = "2024-05-01T10:00:00Z"  # when, besides where: a phone writes both
SECRETS = (b"48.8584", AUTHOR.encode(), b"Secret Cam")
_SOURCES = {
    "mov": ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
            "-c:v", "mpeg4", "-c:a", "aac", "-metadata:s:v", "handler_name=Secret Cam"],
    "mp4": ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-c:v", "mpeg4",
            "-movflags", "+use_metadata_tags"],
    "webm": ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
             "-c:v", "libvpx", "-c:a", "libvorbis"],
    "mp3": ["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libmp3lame"],
    "ogg": ["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libvorbis"],
    "wav": ["-f", "lavfi", "-i", "sine=duration=1"],
}


def has_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


def recording(extension: str, folder: Path) -> bytes:
    """A one-second recording tagged with where and when it was made and by whom."""
    path = folder / f"recording.{extension}"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", *_SOURCES[extension], "-metadata", f"location={LOCATION}",
                    "-metadata", f"artist={AUTHOR}", "-metadata", f"comment=GPS {LOCATION}",
                    "-metadata", f"creation_time={SHOT_AT}", str(path)], check=True)
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


def photo_with_camera_metadata() -> bytes:
    """A JPEG as a phone writes it: the camera's make and a GPS position in EXIF, plus an IPTC block."""
    exif = Image.Exif()
    exif[0x010F] = "Secret Cam"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.24), 3: "E", 4: (2.0, 17.0, 40.2)}  # GPSInfo
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "JPEG", exif=exif.tobytes())
    jpeg = buffer.getvalue()
    iptc = b"Photoshop 3.0\x00" + f"8BIM city {LOCATION}".encode()
    app13 = b"\xff\xed" + (len(iptc) + 2).to_bytes(2, "big") + iptc
    return jpeg[:2] + app13 + jpeg[2:]


def pdf_with_a_photo() -> bytes:
    """A one-page PDF whose page is a photo carrying its camera's metadata, embedded as DCT (JPEG) data."""
    writer = PdfWriter()
    page = writer.add_blank_page(40, 30)
    photo = StreamObject()
    photo._data = photo_with_camera_metadata()  # noqa: SLF001 - the JPEG bytes are the stream as encoded
    photo.update({
        NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
        NameObject("/Width"): NumberObject(40), NameObject("/Height"): NumberObject(30),
        NameObject("/ColorSpace"): NameObject("/DeviceRGB"), NameObject("/BitsPerComponent"): NumberObject(8),
        NameObject("/Filter"): NameObject("/DCTDecode"),
    })
    image = writer._add_object(photo)  # noqa: SLF001 - no public way to add a raw image stream
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): image})})
    drawing = DecodedStreamObject()
    drawing.set_data(b"q 40 0 0 30 0 0 cm /Im0 Do Q")
    page[NameObject("/Contents")] = writer._add_object(drawing)  # noqa: SLF001
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
