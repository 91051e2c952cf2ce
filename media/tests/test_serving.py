"""Nobody gets an original upload (GPS position, camera owner) from a public URL: the media URL serves
renditions only, in DEBUG as behind the production web server, and the original goes out through an
authenticated view or the API to people who may see the library."""

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from aicmo_site.testing.media import served
from media.models import Rendition
from media.services import asset_renditions_generate, asset_upload
from media.tests import images

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_photo(library):
    content = images.jpeg_bytes(300, 200, gps=True)
    asset, _, _ = asset_upload(library=library, file=images.upload(content, "office.jpg"), uploaded_by=None)
    asset_renditions_generate(asset_id=asset.pk)
    return asset, content


def test_anonymous_gets_the_publish_rendition_and_never_the_original(debug_media_urls, client, office_photo,
                                                                    media_bucket):
    asset, content = office_photo
    if media_bucket:  # the bucket's policy lets anonymous people read renditions/ only
        assert served(client, media_bucket.address(asset.file.name)).status_code == 403
        assert "X-Amz-Signature=" in asset.file.url and "X-Amz-Expires=300" in asset.file.url
    else:
        assert client.get(asset.file.url).status_code == 404
    assert client.get(f"/api/assets/{asset.pk}/original/").status_code in (401, 403)
    assert client.get(f"/media/library/{asset.pk}/original/").status_code == 302

    publish = Rendition.objects.get(asset=asset, preset="publish")
    answer = served(client, publish.url)
    assert answer.status_code == 200
    assert answer.content and b"Exif" not in answer.content and b"GPS" not in answer.content
    assert Image.open(default_storage.open(asset.file.name)).getexif().get_ifd(0x8825)  # the original keeps it


def test_the_api_points_to_the_original_behind_its_permission(api_as, office_photo):
    asset, content = office_photo
    marketer = api_as("Marketer")
    file_url = marketer.get(f"/api/assets/{asset.pk}/").json()["file_url"]
    assert file_url == f"http://testserver/api/assets/{asset.pk}/original/"
    answer = served(marketer, marketer.get(file_url))
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    assert answer["Cache-Control"] == "private, no-store"
    assert answer.content == content
    assert api_as(None, "nobody").get(file_url).status_code == 403


def test_behind_nginx_the_web_server_sends_the_checked_original(api_as, office_photo, settings):
    settings.MEDIA_ORIGINALS_ACCEL_REDIRECT = "/protected-media/"
    asset, _ = office_photo
    answer = api_as("Analyst").get(f"/api/assets/{asset.pk}/original/")
    assert answer.status_code == 200 and answer["X-Accel-Redirect"] == f"/protected-media/{asset.file.name}"
    assert not b"".join(answer.streaming_content)


def test_the_library_page_gives_the_original_to_signed_in_people_who_may_see_the_library(client, make_user,
                                                                                         office_photo):
    asset, content = office_photo
    address = f"/media/library/{asset.pk}/original/"
    assert client.get(address)["Location"].startswith("/accounts/login/")

    client.force_login(make_user("no-role"))
    assert client.get(address).status_code == 403

    client.force_login(make_user("analyst-media", role="Analyst"))
    response = client.get(address)
    assert response["X-Content-Type-Options"] == "nosniff"
    answer = served(client, response)
    assert answer.status_code == 200 and answer.content == content
    assert answer["Content-Type"] == "image/jpeg"
    assert answer["Content-Disposition"] == 'inline; filename="office.jpg"'
    assert answer["Cache-Control"] == "private, no-store"


def test_an_original_that_is_not_a_picture_is_downloaded_never_shown(client, make_user, library, settings):
    # Off in the middleware too: the header must come from the original's own response.
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False
    brochure, _, _ = asset_upload(library=library, file=images.upload(images.PDF, "brochure.pdf"), uploaded_by=None)
    client.force_login(make_user("marketer-brochure", role="Marketer"))
    response = client.get(f"/media/library/{brochure.pk}/original/")
    assert response["X-Content-Type-Options"] == "nosniff"
    answer = served(client, response)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == 'attachment; filename="brochure.pdf"'
