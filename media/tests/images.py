"""Real files made in the tests: images with metadata, bombs, disguised formats."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter

XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Secret Photographer"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def picture(width: int = 400, height: int = 300, *, seed: int = 0, mode: str = "RGB") -> Image.Image:
    """A picture with structure (gradients and blocks), so perceptual hashes differ between seeds."""
    image = Image.new(mode, (width, height))
    gradient = Image.linear_gradient("L").resize((width, height))
    image.paste(Image.merge("RGB", (gradient, gradient.rotate(90 * (seed % 4)), gradient.transpose(0))).convert(mode))
    block = Image.new(mode, (max(1, width // 3), max(1, height // 3)), (255 - seed * 37 % 255, seed * 53 % 255, 90))
    image.paste(block, ((seed * 41) % max(1, width - block.width), (seed * 29) % max(1, height - block.height)))
    return image


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return exif


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg_bytes(width=400, height=300, *, seed=0, gps=False, orientation=1, xmp=False) -> bytes:
    options = {"quality": 90}
    if gps or orientation != 1:
        options["exif"] = exif_with_gps(orientation).tobytes()
    if xmp:
        options["xmp"] = XMP_PACKET
    return encode(picture(width, height, seed=seed), "JPEG", **options)


def png_bytes(width=300, height=300, *, seed=1, gps=False, xmp=False) -> bytes:
    options = {}
    if gps:
        options["exif"] = exif_with_gps().tobytes()
    if xmp:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
        options["pnginfo"] = info
    return encode(picture(width, height, seed=seed, mode="RGBA"), "PNG", **options)


def webp_bytes(width=300, height=400, *, seed=2, gps=False, xmp=False) -> bytes:
    options = {"quality": 90}
    if gps:
        options["exif"] = exif_with_gps().tobytes()
    if xmp:
        options["xmp"] = XMP_PACKET
    return encode(picture(width, height, seed=seed), "WEBP", **options)


def gif_bytes(width=120, height=80, *, frames=3) -> bytes:
    images = [picture(width, height, seed=s).convert("P") for s in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)


def png_bomb(side: int = 20_000) -> bytes:
    """A valid PNG header claiming side×side pixels with a tiny compressed body (a few kB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * (side // 8 + 1)
    compressor = zlib.compressobj(9)
    body = compressor.compress(row * 64) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def gif_with_oversized_frame(frame_side: int = 30_000) -> bytes:
    """A 10×10 GIF canvas whose one frame descriptor claims frame_side×frame_side pixels."""
    header = b"GIF89a" + struct.pack("<HHBBB", 10, 10, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, frame_side, frame_side, 0) + b"\x02\x02\x44\x01\x00"
    return header + frame + b"\x3b"


def tga_bytes() -> bytes:
    return encode(picture(40, 30), "TGA")


def psd_bytes() -> bytes:
    """A minimal Photoshop header and an empty body (Pillow reads PSD but cannot write it)."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 30, 40, 8, 3)
    return header + struct.pack(">I", 0) * 3 + struct.pack(">H", 0) + b"\x00" * (30 * 40 * 3)


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'


def upload(content: bytes, name: str, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def pdf_bytes(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PDF = pdf_bytes()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


MP4 = (box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom") + box(b"moov", box(b"mvhd", b"\x00" * 100))
       + box(b"mdat", b"\x00" * 64))
# MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417-byte frames.
MP3_FRAME = b"\xff\xfb\x90\x00" + b"\x00" * 413
MP3 = MP3_FRAME * 8
MP3_WITH_ID3 = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + MP3_FRAME * 4 + b"TAG" + b"\x00" * 125
WAV = (b"RIFF" + struct.pack("<I", 4 + 24 + 16) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
       + struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", 8) + b"\x00" * 8)
OGG_PAGE = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e" + b"\x01vorbis" + b"\x00" * 23
OGG = OGG_PAGE * 2
WEBM = (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
        b"\x42\x82\x84webm\x42\x87\x81\x02\x42\x85\x81\x02" + b"\x18\x53\x80\x67\x82\xec\x80")
HTML = b"<html><body><script>fetch('/api/contacts/').then(r => r.text()).then(alert)</script></body></html>"
# HTML behind each allowed type's magic bytes, or behind a first valid unit of it.
POLYGLOTS = {
    "mp3-header": b"\xff\xfb\x90\x00" + HTML,
    "mp3-frame": MP3_FRAME + HTML,
    "mp3-id3": b"ID3\x03\x00\x00\x00\x00\x00\x00" + MP3_FRAME + HTML,
    "mp4-ftyp": box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom") + HTML,
    "mp4-far": MP4 + b"\x00" * 9000 + HTML,
    "pdf": b"%PDF-1.4\n" + HTML,
    "pdf-far": b"%PDF-1.4\n" + b"%" * 9000 + b"\n" + HTML,
    "pdf-html-appended": pdf_bytes(3) + b"\n" * 9000 + HTML,
    "pdf-html-inside": pdf_bytes(3)[:200] + b"\n" * 9000 + HTML + pdf_bytes(3)[200:],
    "pdf-html-before-eof": pdf_bytes(3)[:-6] + b"\n" + b"%" * 9000 + HTML + b"\n%%EOF\n",
    "pdf-truncated": pdf_bytes(3)[:-200],
    "mp3-far": MP3 + b"\x00" * 9000 + HTML,
    "wav": WAV[:12] + HTML,
    "wav-far": WAV + b"\x00" * 9000 + HTML,
    "ogg": OGG_PAGE + HTML,
    "ogg-far": OGG + b"\x00" * 9000 + HTML,
    "webm": WEBM + HTML,
}
