"""What a channel is given for a photo is the cleaned "publish" rendition, never the original upload
with its GPS position, camera serial, owner, XMP or IPTC."""

import io
import json
import struct

import pytest
import requests
from django.core.files.storage import default_storage
from PIL import Image

from media.models import Rendition
from media.services import asset_renditions_generate, asset_upload
from media.tests import images
from media.tests.factories import LibraryFactory
from publishing import dispatcher
from publishing.tests.channels import channel_on
from publishing.tests.factories import JobFactory

pytestmark = pytest.mark.django_db

IPTC_LOCATION = b"Secret Office, 12 Hidden Street"


def with_iptc(jpeg: bytes) -> bytes:
    """An APP13 (Photoshop IRB) segment holding an IPTC sub-location, right after the JPEG's SOI."""
    record = b"\x1c\x02\x5c" + struct.pack(">H", len(IPTC_LOCATION)) + IPTC_LOCATION
    block = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(record)) + record
    payload = b"Photoshop 3.0\x00" + block
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def photo_from_the_office(user) -> bytes:
    original = with_iptc(images.jpeg_bytes(800, 600, gps=True, xmp=True, orientation=6))
    assert IPTC_LOCATION in original and b"Secret Photographer" in original and b"CameraMaker" in original
    asset, _, _ = asset_upload(library=LibraryFactory(), file=images.upload(original, "office.jpg"), uploaded_by=user)
    return asset


def posted_media_urls(httpserver) -> list[str]:
    [(request, _response)] = httpserver.log
    return json.loads(request.data)["data"]["media_urls"]


def photo_posted_to_a_webhook(httpserver, user, *, renditions_ready: bool):
    """The office photo published to a webhook channel; the asset and the one media URL it was given."""
    asset = photo_from_the_office(user)
    if renditions_ready:
        asset_renditions_generate(asset_id=asset.pk)
    httpserver.expect_request("/webhook", method="POST").respond_with_json({"id": "p-1", "url": "https://x/p-1"})
    job = JobFactory(channel=channel_on(httpserver, "webhook"))
    job.version.media.add(asset)
    assert dispatcher.dispatch_once()["published"] == 1
    [url] = posted_media_urls(httpserver)
    return asset, url


def stored_file_of(url: str, settings) -> bytes:
    path = url.removeprefix(settings.PUBLIC_BASE_URL).removeprefix(settings.MEDIA_URL)
    with default_storage.open(path) as handle:
        return handle.read()


def assert_clean_and_upright(content: bytes) -> None:
    image = Image.open(io.BytesIO(content))
    assert image.size == (600, 800)  # orientation 6 applied to the pixels, not left to a viewer
    assert not image.getexif() and "xmp" not in image.info and "photoshop" not in image.info
    for secret in (IPTC_LOCATION, b"Secret Photographer", b"CameraMaker", b"Exif\x00\x00"):
        assert secret not in content


@pytest.mark.parametrize("renditions_ready", [True, False], ids=["rendered-by-the-worker", "rendered-at-publish"])
def test_a_published_photo_is_the_clean_publish_rendition(httpserver, make_user, settings, renditions_ready):
    asset, url = photo_posted_to_a_webhook(httpserver, make_user("mara", role="Marketer"),
                                           renditions_ready=renditions_ready)
    publish = Rendition.objects.get(asset=asset, preset="publish")
    assert url == f"{settings.PUBLIC_BASE_URL}{publish.url}"
    assert asset.file.name not in url
    assert_clean_and_upright(stored_file_of(url, settings))
    with asset.file.open("rb") as original:
        assert IPTC_LOCATION in original.read()  # the original stays as uploaded, for people with access


def test_with_media_in_a_bucket_the_channel_fetches_the_publish_rendition_from_the_bucket(httpserver, make_user,
                                                                                          make_media_bucket):
    bucket = make_media_bucket()
    asset, url = photo_posted_to_a_webhook(httpserver, make_user("mara", role="Marketer"), renditions_ready=True)
    assert url == bucket.address(f"renditions/{asset.pk}/publish.jpg")
    fetched = requests.get(url, timeout=30)  # as the channel does: anonymously
    assert fetched.status_code == 200
    assert_clean_and_upright(fetched.content)


def test_a_recording_whose_metadata_cannot_be_removed_is_not_posted(httpserver, make_user, monkeypatch):
    song, _, _ = asset_upload(library=LibraryFactory(), file=images.upload(images.MP3, "interview.mp3"),
                              uploaded_by=make_user("mara", role="Marketer"))
    Rendition.objects.filter(asset=song).delete()
    monkeypatch.setattr("media.cleaning.shutil.which", lambda name: None)
    job = JobFactory(channel=channel_on(httpserver, "webhook"))
    job.version.media.add(song)

    assert not dispatcher.dispatch_once().get("published")

    assert httpserver.log == []
    job.refresh_from_db()
    assert "“interview.mp3” is not published: its metadata could not be removed" in job.error_message


def test_a_photo_too_big_for_the_channel_is_posted_as_a_copy_that_fits_and_the_check_says_so(make_user, settings):
    from aicmo_site.errors import DomainError
    from media.services import asset_public_url
    from publishing import checks
    from publishing.posts import build_post

    # 2400×1800 is 4.3 million pixels: over TikTok's 1080p, as is the 1920-wide copy; the 1280-wide one fits.
    asset, _, _ = asset_upload(library=LibraryFactory(), file=images.upload(images.jpeg_bytes(2400, 1800), "wide.jpg"),
                               uploaded_by=make_user("mara", role="Marketer"))
    asset_renditions_generate(asset_id=asset.pk)
    job = JobFactory()
    job.version.kind = "tiktok"
    job.version.save()
    job.version.media.add(asset)

    [url] = build_post(job).media_urls

    fitting = Rendition.objects.get(asset=asset, preset="w1280", format="jpeg")
    assert url == f"{settings.PUBLIC_BASE_URL}{fitting.url}"
    assert Image.open(io.BytesIO(stored_file_of(url, settings))).size == (1280, 960)
    result = checks.image_size_check([job.version])
    assert result.outcome == checks.PASS
    assert "the full-size copy (2400×1800" in result.reason and "a 1280×960 copy of" in result.reason
    # Where no copy is small enough, nothing is posted and the check fails.
    with pytest.raises(DomainError) as refused:
        asset_public_url(asset=asset, max_pixels=100 * 100)
    assert refused.value.code == "too_big_for_channel"


def _upload(user, content: bytes, name: str, **fields):
    asset, _, _ = asset_upload(library=LibraryFactory(), file=images.upload(content, name), uploaded_by=user)
    if fields:
        type(asset).objects.filter(pk=asset.pk).update(**fields)
        asset.refresh_from_db()
    asset_renditions_generate(asset_id=asset.pk)
    return asset


def _posted_on(kind: str, asset):
    job = JobFactory()
    job.version.kind = kind
    job.version.save()
    job.version.media.add(asset)
    return job


def test_a_photo_of_a_shape_the_channel_refuses_is_posted_cropped_around_its_focal_point(make_user, settings):
    from publishing import checks
    from publishing.posts import build_post

    # A 2000×500 banner (ratio 4): red on its left half, blue on its right, the focal point on the blue.
    banner = Image.new("RGB", (2000, 500), (220, 20, 20))
    banner.paste(Image.new("RGB", (1000, 500), (20, 20, 220)), (1000, 0))
    asset = _upload(make_user("mara", role="Marketer"), images.encode(banner, "JPEG", quality=90), "banner.jpg",
                    focal_x=0.9)
    job = _posted_on("instagram", asset)

    result = checks.image_size_check([job.version])
    assert result.outcome == checks.WARN
    assert "ratio 4.00) is outside the channel's 0.8 to 1.91" in result.reason and "to 955×500" in result.reason

    [url] = build_post(job).media_urls
    sent = Image.open(io.BytesIO(stored_file_of(url, settings)))
    assert sent.size == (955, 500) and 0.8 <= 955 / 500 <= 1.91
    red, _, blue = sent.convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert blue > 200 and red < 40, "the crop kept the side the focal point is on"
    assert url == f"{settings.PUBLIC_BASE_URL}{Rendition.objects.get(asset=asset, preset='within-0.8-1.91').url}"
    assert build_post(job).media_urls == [url], "the cropped copy is made once and reused"

    # Where the shape is accepted, the whole picture goes as it is.
    assert build_post(_posted_on("facebook", asset)).media_urls != [url]


def test_a_tall_photo_is_cropped_for_linkedin_and_an_animation_is_not(make_user, settings):
    from publishing import checks
    from publishing.posts import build_post

    user = make_user("mara", role="Marketer")
    tall = _upload(user, images.jpeg_bytes(600, 1500), "tall.jpg")
    [url] = build_post(_posted_on("linkedin", tall)).media_urls
    assert Image.open(io.BytesIO(stored_file_of(url, settings))).size == (600, 900)  # 2:3, LinkedIn's tallest

    strip = _upload(user, images.gif_bytes(400, 40), "strip.gif")
    job = _posted_on("instagram", strip)
    result = checks.image_size_check([job.version])
    assert result.outcome == checks.FAIL and "an animation is not cropped" in result.reason
    [url] = build_post(job).media_urls
    sent = Image.open(io.BytesIO(stored_file_of(url, settings)))
    assert sent.size == (400, 40) and sent.n_frames == 3
