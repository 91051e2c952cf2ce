import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from aicmo_site.testing.media import renditions_url
from media.models import Rendition
from media.renditions import _open_for, focal_crop_box, plan_renditions, render
from media.services import asset_renditions_generate, asset_set_focal_point, asset_upload
from media.tests import images

CHANNEL_SIZES = {
    "instagram_square": (1080, 1080), "instagram_portrait": (1080, 1350), "linkedin_link": (1200, 627),
    "x_card": (1600, 900), "open_graph": (1200, 630),
}


def carries_no_metadata(content: bytes) -> bool:
    image = Image.open(io.BytesIO(content))
    exif = image.getexif()
    return (
        not exif and 0x8825 not in exif and "xmp" not in image.info and "XML:com.adobe.xmp" not in image.info
        and "icc_profile" not in image.info and b"Secret Photographer" not in content and b"CameraMaker" not in content
    )


def uploaded(library, user, content, name):
    asset, _, _ = asset_upload(library=library, file=images.upload(content, name), uploaded_by=user)
    return asset


def test_plan_never_upscales_responsive_widths():
    keys = {(t.preset, t.format) for t in plan_renditions(source_format="JPEG", width=1300, height=900)}
    assert ("w640", "jpeg") in keys and ("w1280", "webp") in keys and ("w1920", "jpeg") not in keys
    assert ("thumbnail", "jpeg") in keys and ("x_card", "jpeg") in keys


def test_focal_crop_box_follows_the_focal_point_within_the_edges():
    assert focal_crop_box(2000, 1000, aspect=1.0, focal_x=0.0, focal_y=0.5) == (0.0, 0.0, 1000.0, 1000.0)
    assert focal_crop_box(2000, 1000, aspect=1.0, focal_x=0.75, focal_y=0.5) == (1000.0, 0.0, 2000.0, 1000.0)
    assert focal_crop_box(2000, 1000, aspect=1.0, focal_x=0.5, focal_y=0.5) == (500.0, 0.0, 1500.0, 1000.0)


def test_jpeg_renditions_have_their_sizes_formats_and_no_metadata(library, marketer):
    asset = uploaded(library, marketer, images.jpeg_bytes(2000, 1500, gps=True, xmp=True), "beach.jpg")
    assert asset_renditions_generate(asset_id=asset.pk) == 13
    renditions = {(r.preset, r.format): r for r in asset.renditions.all()}
    expected_sizes = {("thumbnail", "jpeg"): (320, 240), ("w640", "jpeg"): (640, 480), ("w640", "webp"): (640, 480),
                      ("w1280", "webp"): (1280, 960), ("w1920", "jpeg"): (1920, 1440),
                      ("publish", "jpeg"): (2000, 1500)}
    expected_sizes |= {(preset, "jpeg"): size for preset, size in CHANNEL_SIZES.items()}
    for key, size in expected_sizes.items():
        rendition = renditions[key]
        with rendition.file.open("rb") as handle:
            content = handle.read()
        image = Image.open(io.BytesIO(content))
        assert image.size == size == (rendition.width, rendition.height), key
        assert image.format == {"jpeg": "JPEG", "webp": "WEBP"}[key[1]], key
        assert carries_no_metadata(content), key
        assert rendition.url == f"{renditions_url()}{asset.pk}/{key[0]}.{'jpg' if key[1] == 'jpeg' else key[1]}"


@pytest.mark.parametrize(
    ("content", "name", "formats"),
    [
        (images.png_bytes(700, 700, gps=True, xmp=True), "logo.png", {"PNG", "WEBP"}),
        (images.webp_bytes(700, 900, gps=True, xmp=True), "shot.webp", {"WEBP"}),
        (images.gif_bytes(700, 500), "anim.gif", {"GIF", "PNG", "WEBP"}),
    ],
)
def test_png_webp_and_gif_renditions_carry_no_metadata(library, marketer, content, name, formats):
    asset = uploaded(library, marketer, content, name)
    asset_renditions_generate(asset_id=asset.pk)
    seen = set()
    for rendition in asset.renditions.all():
        with rendition.file.open("rb") as handle:
            data = handle.read()
        seen.add(Image.open(io.BytesIO(data)).format)
        assert carries_no_metadata(data), rendition
    assert seen == formats


def test_orientation_is_applied_to_renditions(library, marketer):
    asset = uploaded(library, marketer, images.jpeg_bytes(800, 600, orientation=6, gps=True), "turned.jpg")
    asset_renditions_generate(asset_id=asset.pk)
    thumbnail = asset.renditions.get(preset="thumbnail")
    assert (thumbnail.width, thumbnail.height) == (240, 320)
    with thumbnail.file.open("rb") as handle:
        assert Image.open(handle).size == (240, 320)


def test_generating_again_changes_nothing(library, marketer):
    asset = uploaded(library, marketer, images.jpeg_bytes(1000, 700), "a.jpg")
    asset_renditions_generate(asset_id=asset.pk)
    stamps = dict(asset.renditions.values_list("pk", "generated_at"))
    assert asset_renditions_generate(asset_id=asset.pk) == 0
    assert dict(asset.renditions.values_list("pk", "generated_at")) == stamps


def test_focal_point_change_replaces_crops_at_the_same_url(library, marketer):
    asset = uploaded(library, marketer, images.jpeg_bytes(2400, 1200, seed=4), "wide.jpg")
    asset_renditions_generate(asset_id=asset.pk)
    square = asset.renditions.get(preset="instagram_square")
    url, before = square.url, default_storage.open(square.file.name).read()
    asset_set_focal_point(asset=asset, x=0.0, y=0.5)
    assert asset_renditions_generate(asset_id=asset.pk) == 13
    square.refresh_from_db()
    assert square.url == url
    assert default_storage.open(square.file.name).read() != before
    assert Rendition.objects.filter(asset=asset, preset="instagram_square").count() == 1


def test_a_missing_rendition_file_is_made_again(library, marketer):
    asset = uploaded(library, marketer, images.jpeg_bytes(700, 500), "a.jpg")
    asset_renditions_generate(asset_id=asset.pk)
    thumbnail = asset.renditions.get(preset="thumbnail", format="jpeg")
    default_storage.delete(thumbnail.file.name)
    assert asset_renditions_generate(asset_id=asset.pk) == 1
    assert default_storage.exists(thumbnail.file.name)


def test_a_document_gets_one_rendition_its_publish_copy(library, marketer):
    asset = uploaded(library, marketer, images.PDF, "brochure.pdf")
    Rendition.objects.filter(asset=asset).delete()
    assert asset_renditions_generate(asset_id=asset.pk) == 1
    assert list(asset.renditions.values_list("preset", "format")) == [("publish", "pdf")]
    assert asset_renditions_generate(asset_id=asset.pk) == 0


def test_large_jpeg_is_decoded_at_reduced_size_for_small_targets():
    content = images.jpeg_bytes(4000, 3000)
    plan = plan_renditions(source_format="JPEG", width=4000, height=3000)
    thumbnail_only = [target for target in plan if target.preset == "thumbnail"]
    [output] = render(io.BytesIO(content), thumbnail_only)
    assert Image.open(io.BytesIO(output.content)).size == (320, 240)
    assert _open_for(io.BytesIO(content), thumbnail_only).size == (500, 375)


def test_an_animated_gif_is_published_with_every_frame_and_no_metadata(library, marketer):
    frames = [images.picture(200, 120, seed=seed).convert("P") for seed in range(4)]
    content = images.encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[80, 120, 160, 200],
                            loop=0, comment=b"Secret Photographer at 48.8584N", xmp=images.XMP_PACKET)
    assert b"Secret Photographer" in content and Image.open(io.BytesIO(content)).n_frames == 4
    asset = uploaded(library, marketer, content, "dance.gif")

    asset_renditions_generate(asset_id=asset.pk)

    publish = asset.renditions.get(preset="publish")
    assert publish.format == "gif" and publish.url.endswith("/publish.gif")
    with publish.file.open("rb") as handle:
        published = handle.read()
    animation = Image.open(io.BytesIO(published))
    assert animation.format == "GIF" and animation.n_frames == 4 and animation.info.get("loop") == 0
    durations = []
    for index in range(animation.n_frames):
        animation.seek(index)
        durations.append(animation.info["duration"])
    assert durations == [80, 120, 160, 200]
    assert b"Secret Photographer" not in published and b"XMP" not in published
    assert "comment" not in animation.info and "xmp" not in animation.info


def publish_bytes(asset) -> bytes:
    with asset.renditions.get(preset="publish").file.open("rb") as handle:
        return handle.read()


def test_an_upright_jpeg_is_published_with_its_own_pixels_and_nothing_else(library, marketer):
    original = images.jpeg_bytes(1200, 900, gps=True, xmp=True)
    # A comment, a second APP0 (a JFIF thumbnail extension) and, after the image's end, a phone's second
    # picture carrying its own EXIF: none of it may reach the published copy.
    trailer = images.jpeg_bytes(64, 48, gps=True, seed=3)
    comment = b"\xff\xfe" + (len(b"Secret Photographer") + 2).to_bytes(2, "big") + b"Secret Photographer"
    jfxx = b"\xff\xe0\x00\x0aJFXX\x00\x10\x00\x00"
    upload = original[:2] + comment + jfxx + original[2:] + trailer
    asset = uploaded(library, marketer, upload, "camera.jpg")
    asset_renditions_generate(asset_id=asset.pk)
    published = publish_bytes(asset)
    assert carries_no_metadata(published)
    assert b"JFXX" not in published and b"Exif" not in published and published.endswith(b"\xff\xd9")
    assert Image.open(io.BytesIO(published)).tobytes() == Image.open(io.BytesIO(original)).tobytes()
    assert len(published) < len(original)


def test_a_turned_or_cmyk_jpeg_is_published_decoded_upright_in_rgb(library, marketer):
    turned = uploaded(library, marketer, images.jpeg_bytes(800, 600, orientation=6, gps=True, seed=5), "t.jpg")
    cmyk = uploaded(library, marketer, images.encode(images.picture(300, 200, seed=6).convert("CMYK"), "JPEG"),
                    "c.jpg")
    for asset in (turned, cmyk):
        asset_renditions_generate(asset_id=asset.pk)
    turned_copy = Image.open(io.BytesIO(publish_bytes(turned)))
    assert turned_copy.size == (600, 800) and carries_no_metadata(publish_bytes(turned))
    assert Image.open(io.BytesIO(publish_bytes(cmyk))).mode == "RGB"


def test_a_damaged_jpeg_is_not_copied_as_it_is():
    from media.cleaning import jpeg_without_metadata

    whole = images.jpeg_bytes(200, 100)
    assert jpeg_without_metadata(whole) is not None
    assert jpeg_without_metadata(whole[: len(whole) // 2]) is None  # no end of image
    assert jpeg_without_metadata(b"\xff\xd8\xff\xe1\x00\xffExif") is None


def test_each_width_is_resized_from_the_next_larger_one_without_losing_the_picture():
    """The cascade (1920, then 1280 from it, then 640 from that) stays close to one resize from the source."""
    source = images.picture(4000, 3000, seed=7)
    outputs = render(io.BytesIO(images.encode(source, "JPEG", quality=92)),
                     plan_renditions(source_format="JPEG", width=4000, height=3000))
    w640 = next(output for output in outputs if output.target.preset == "w640" and output.target.format == "jpeg")
    made = Image.open(io.BytesIO(w640.content)).convert("L")
    direct = source.resize((640, 480), Image.Resampling.LANCZOS).convert("L")
    assert made.size == (640, 480)
    differences = [abs(a - b) for a, b in zip(made.tobytes(), direct.tobytes(), strict=True)]
    assert sum(differences) / len(differences) < 2.0
