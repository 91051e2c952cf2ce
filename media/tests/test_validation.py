import subprocess
import tracemalloc

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile

from aicmo_site.errors import DomainError
from media.tests import images, recordings
from media.validation import check_upload, gif_frame_sizes

needs_ffmpeg = pytest.mark.skipif(not recordings.has_ffmpeg(), reason="ffmpeg missing: run scripts/system-deps.sh")


def refusal(content: bytes, name: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        check_upload(images.upload(content, name))
    return caught.value


@pytest.mark.parametrize(
    ("content", "mime_type", "size"),
    [
        (images.jpeg_bytes(400, 300), "image/jpeg", (400, 300)),
        (images.png_bytes(300, 200), "image/png", (300, 200)),
        (images.webp_bytes(200, 300), "image/webp", (200, 300)),
        (images.gif_bytes(120, 80), "image/gif", (120, 80)),
    ],
)
def test_allowed_image_formats_are_accepted_with_type_and_size_from_content(content, mime_type, size):
    checked = check_upload(images.upload(content, "whatever.bin"))
    assert (checked.kind, checked.mime_type, (checked.width, checked.height)) == ("image", mime_type, size)
    assert len(checked.sha256) == 64 and len(checked.perceptual_hash) == 16


def test_exif_orientation_is_applied_to_the_dimensions():
    checked = check_upload(images.upload(images.jpeg_bytes(400, 300, orientation=6), "turned.jpg"))
    assert (checked.width, checked.height, checked.orientation) == (300, 400, "portrait")


def test_png_bomb_is_refused_from_its_header_without_memory_growing():
    bomb = images.png_bomb(20_000)
    assert len(bomb) < 20_000
    tracemalloc.start()
    error = refusal(bomb, "bomb.png")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert error.code == "too_many_pixels"
    assert peak < 5 * 1024 * 1024


def test_pixel_limit_is_a_setting(settings):
    settings.MEDIA_MAX_IMAGE_PIXELS = 100 * 100
    error = refusal(images.jpeg_bytes(200, 200), "big.jpg")
    assert error.code == "too_many_pixels" and "200×200" in error.message


def test_byte_limit_is_a_setting(settings):
    settings.MEDIA_MAX_IMAGE_BYTES = 1000
    error = refusal(images.jpeg_bytes(400, 300), "heavy.jpg")
    assert error.code == "file_too_large"


def test_gif_frame_beyond_the_canvas_and_limit_is_refused():
    content = images.gif_with_oversized_frame(30_000)
    assert gif_frame_sizes(content) == ((10, 10), [(0, 0, 30_000, 30_000)])
    error = refusal(content, "tiny.gif")
    assert error.code in {"frame_too_large", "too_many_pixels"}
    assert "frame 1" in error.message or "pixels" in error.message


def test_every_gif_frame_is_read():
    assert len(gif_frame_sizes(images.gif_bytes(frames=4))[1]) == 4


def test_too_many_gif_frames_are_refused(settings):
    settings.MEDIA_MAX_GIF_FRAMES = 2
    assert refusal(images.gif_bytes(frames=3), "anim.gif").code == "too_many_frames"


@pytest.mark.parametrize(
    ("content", "name"),
    [(images.tga_bytes(), "photo.jpg"), (images.psd_bytes(), "photo.jpg"), (b"just some text\n" * 10, "photo.png")],
)
def test_content_that_is_not_an_allowed_format_is_refused_whatever_its_name(content, name):
    error = refusal(content, name)
    assert error.code == "unsupported_type"
    assert "content was checked" in error.message


def test_svg_is_refused_with_its_reason():
    error = refusal(images.SVG, "logo.svg")
    assert error.code == "svg_refused" and "scripts" in error.message


def test_empty_file_is_refused():
    assert refusal(b"", "nothing.jpg").code == "empty_file"


@pytest.mark.parametrize(
    ("content", "kind", "mime_type"),
    [(images.PDF, "document", "application/pdf"), (images.MP3, "audio", "audio/mpeg"),
     (images.MP3_WITH_ID3, "audio", "audio/mpeg"), (images.WAV, "audio", "audio/wav")],
    ids=["pdf", "mp3", "mp3-id3", "wav"],
)
def test_other_kinds_are_recognised_from_their_content(content, kind, mime_type):
    checked = check_upload(images.upload(content, "file.dat"))
    assert (checked.kind, checked.mime_type, checked.width) == (kind, mime_type, None)


@needs_ffmpeg
@pytest.mark.parametrize(
    ("extension", "kind", "mime_type"),
    [("mp4", "video", "video/mp4"), ("mov", "video", "video/quicktime"), ("webm", "video", "video/webm"),
     ("mp3", "audio", "audio/mpeg"), ("wav", "audio", "audio/wav"), ("ogg", "audio", "audio/ogg")],
)
def test_real_recordings_are_read_to_their_end_and_accepted(extension, kind, mime_type, tmp_path):
    checked = check_upload(images.upload(recordings.recording(extension, tmp_path), "file.dat"))
    assert (checked.kind, checked.mime_type) == (kind, mime_type)


@needs_ffmpeg
def test_a_container_whose_walk_holds_but_ffmpeg_cannot_read_is_refused(tmp_path):
    # Boxes and pages that tile the file, with nothing playable inside them.
    assert "holds no video stream" in refusal(images.MP4, "clip.mp4").message
    assert "ffmpeg cannot read it as OGG" in refusal(images.OGG, "song.ogg").message
    assert "ffmpeg cannot read it as WEBM" in refusal(images.WEBM, "clip.webm").message
    sound_only = tmp_path / "sound.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac",
                    str(sound_only)], check=True)
    assert "holds no video stream" in refusal(sound_only.read_bytes(), "clip.mp4").message


def test_without_ffmpeg_the_structure_walk_decides_alone(monkeypatch):
    monkeypatch.setattr("media.filetypes.shutil.which", lambda name: None)
    assert check_upload(images.upload(images.MP4, "clip.mp4")).mime_type == "video/mp4"
    assert refusal(images.MP4[:-10], "cut.mp4").code == "not_what_it_seems"


def test_document_byte_limit_is_a_setting(settings):
    settings.MEDIA_MAX_DOCUMENT_BYTES = 10
    assert refusal(images.PDF, "brochure.pdf").code == "file_too_large"


def test_truncated_jpeg_is_refused_as_damaged():
    content = images.jpeg_bytes(400, 300)[:300]
    error = refusal(content, "cut.jpg")
    assert error.code in {"damaged_image", "unsupported_type"}


def test_reading_uses_the_file_position_from_the_start():
    file = images.upload(images.png_bytes(), "a.png")
    file.read(10)
    assert check_upload(file).mime_type == "image/png"


@pytest.mark.parametrize("name", sorted(images.POLYGLOTS))
def test_html_behind_the_magic_bytes_of_an_allowed_type_is_refused(name):
    error = refusal(images.POLYGLOTS[name], "song.mp3")
    assert error.code == "not_what_it_seems", error.message


def test_a_last_mp3_frame_cut_off_is_still_audio():
    assert check_upload(images.upload(images.MP3[:-100], "cut.mp3")).mime_type == "audio/mpeg"


def test_an_mp4_box_running_past_the_end_is_refused():
    assert refusal(images.MP4[:-10], "cut.mp4").code == "not_what_it_seems"


@pytest.mark.parametrize("output", ["file", "live"])
def test_a_webm_is_walked_to_its_end_whether_its_sizes_are_known_or_not(output, tmp_path):
    # "live": written to a pipe, as a browser's recorder does, so the segment and clusters have no size.
    source = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
              "-c:v", "libvpx", "-f", "webm"]
    if output == "file":
        subprocess.run([*source, str(tmp_path / "clip.webm")], check=True)
        content = (tmp_path / "clip.webm").read_bytes()
    else:
        content = subprocess.run([*source, "pipe:1"], check=True, capture_output=True).stdout
    assert check_upload(images.upload(content, "clip.webm")).mime_type == "video/webm"
    html_far_in = content + b"\n" * 9000 + images.HTML
    for damaged in (content[:-7], html_far_in, content[:1500] + images.HTML + content[1500:]):
        assert refusal(damaged, "clip.webm").code == "not_what_it_seems"


def test_a_whole_pdf_is_a_document():
    content = images.pdf_bytes(3)
    assert check_upload(images.upload(content, "brochure.pdf")).mime_type == "application/pdf"


def test_a_pdf_cut_off_or_with_html_says_so():
    assert "cut off" in refusal(images.POLYGLOTS["pdf-truncated"], "brochure.pdf").message
    assert "something follows" in refusal(images.POLYGLOTS["pdf-html-appended"], "brochure.pdf").message
    assert "something follows the PDF's" in refusal(images.pdf_bytes() + b"<p>hi</p>", "brochure.pdf").message
    assert "cannot be read to its end" in refusal(images.POLYGLOTS["pdf-html-inside"], "brochure.pdf").message


def test_an_animation_too_large_to_decode_frame_by_frame_is_refused(settings):
    settings.MEDIA_MAX_ANIMATION_PIXELS = 120 * 80 * 2
    error = refusal(images.gif_bytes(120, 80, frames=3), "anim.gif")
    assert error.code == "animation_too_large" and "3 frames of 120×80" in error.message
    assert check_upload(images.upload(images.gif_bytes(120, 80, frames=2), "anim.gif")).mime_type == "image/gif"


@needs_ffmpeg
def test_a_large_upload_is_demuxed_where_django_spooled_it(tmp_path):
    def spooled(content: bytes) -> TemporaryUploadedFile:
        file = TemporaryUploadedFile("clip.mp4", "video/mp4", len(content), None)
        file.write(content)
        file.seek(0)
        return file

    assert check_upload(spooled(recordings.recording("mp4", tmp_path))).mime_type == "video/mp4"
    with pytest.raises(DomainError, match="holds no video stream"):
        check_upload(spooled(images.MP4))
