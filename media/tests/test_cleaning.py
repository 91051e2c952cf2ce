"""What is published of a video, audio or PDF upload carries none of its metadata (location, author,
camera), and still plays or opens."""

import io
import json
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from aicmo_site.errors import DomainError
from aicmo_site.testing.media import renditions_url
from media.cleaning import MetadataNotRemovable, cleaned_copy, strip_jpeg_metadata
from media.models import Rendition
from media.services import asset_public_url, asset_upload
from media.tests import images, recordings

needs_ffmpeg = pytest.mark.skipif(not recordings.has_ffmpeg(), reason="ffmpeg missing: run scripts/system-deps.sh")


def streams_of(content: bytes, tmp_path) -> dict:
    path = tmp_path / "probe"
    path.write_bytes(content)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                           capture_output=True, check=True)
    return json.loads(probe.stdout)


@needs_ffmpeg
@pytest.mark.parametrize("extension", ["mov", "mp4", "webm", "mp3", "ogg", "wav"])
def test_a_recording_loses_its_location_and_author_but_not_its_streams(extension, tmp_path):
    original = recordings.recording(extension, tmp_path)

    clean = cleaned_copy(io.BytesIO(original), extension)

    assert not any(secret in clean for secret in recordings.SECRETS)
    before, after = streams_of(original, tmp_path), streams_of(clean, tmp_path)
    assert [s["codec_name"] for s in after["streams"]] == [s["codec_name"] for s in before["streams"]]
    tags = [after["format"].get("tags", {}), *(stream.get("tags", {}) for stream in after["streams"])]
    assert not {"location", "artist", "comment", "creation_time", "date"} & {key.lower() for tag in tags for key in tag}
    assert not any(recordings.SHOT_AT[:10] in value for tag in tags for value in tag.values())


def test_a_pdf_loses_its_info_and_xmp_but_keeps_its_pages():
    original = recordings.pdf_with_metadata()

    clean = cleaned_copy(io.BytesIO(original), "pdf")

    assert not any(secret in clean for secret in recordings.SECRETS)
    reader = PdfReader(io.BytesIO(clean))
    assert len(reader.pages) == 2 and not reader.metadata and reader.xmp_metadata is None


def test_a_photo_inside_a_pdf_loses_its_exif_and_iptc_but_keeps_its_pixels():
    original = recordings.pdf_with_a_photo()
    assert b"Secret Cam" in original and recordings.LOCATION.encode() in original

    clean = cleaned_copy(io.BytesIO(original), "pdf")

    assert b"Secret Cam" not in clean and recordings.LOCATION.encode() not in clean and b"Exif\x00\x00" not in clean
    before = PdfReader(io.BytesIO(original)).pages[0].images[0].image
    after = PdfReader(io.BytesIO(clean)).pages[0].images[0].image
    assert after.size == (40, 30) and after.tobytes() == before.tobytes()
    assert not after.getexif()


def test_a_damaged_jpeg_inside_a_pdf_is_not_published():
    with pytest.raises(MetadataNotRemovable):
        strip_jpeg_metadata(b"\xff\xd8\xff\xe1\x00\xffExif")


def test_a_file_that_cannot_be_read_is_not_cleaned():
    with pytest.raises(MetadataNotRemovable):
        cleaned_copy(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "pdf")


@pytest.mark.django_db
@pytest.mark.parametrize("extension", ["mov", "webm", "mp3", "pdf"])
def test_what_is_published_is_the_clean_copy(extension, library, tmp_path):
    if extension != "pdf" and not recordings.has_ffmpeg():
        pytest.skip("ffmpeg missing: run scripts/system-deps.sh")
    original = recordings.pdf_with_metadata() if extension == "pdf" else recordings.recording(extension, tmp_path)
    asset, _, _ = asset_upload(library=library, file=images.upload(original, f"office.{extension}"), uploaded_by=None)

    url = asset_public_url(asset=asset)

    publish = Rendition.objects.get(asset=asset, preset="publish")
    assert url == publish.url and url.startswith(f"{renditions_url()}{asset.pk}/publish.")
    with publish.file.open("rb") as handle:
        assert not any(secret in handle.read() for secret in recordings.SECRETS)
    with asset.file.open("rb") as handle:
        assert handle.read() == original  # the original stays as uploaded, for people with access


@pytest.mark.django_db
def test_a_recording_that_cannot_be_cleaned_is_not_published(library, monkeypatch, tmp_path):
    content = recordings.recording("mp3", tmp_path) if recordings.has_ffmpeg() else images.MP3
    asset, _, _ = asset_upload(library=library, file=images.upload(content, "song.mp3"), uploaded_by=None)
    Rendition.objects.filter(asset=asset).delete()
    monkeypatch.setattr(shutil, "which", lambda name: None)

    with pytest.raises(DomainError) as refused:
        asset_public_url(asset=asset)

    assert refused.value.code == "metadata_not_removable" and "ffmpeg is not installed" in refused.value.message
    assert not Rendition.objects.filter(asset=asset).exists()
