import pytest

from media.models import Asset
from media.tests import images
from media.tests.factories import LibraryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_of_two_files_shows_the_good_one_in_the_grid_and_why_the_bad_one_was_refused(
    live_server, page, make_user
):
    make_user("mia", role="Marketer", password="a-long-password-1")
    LibraryFactory(name="Brand")

    page.goto(f"{live_server.url}/accounts/login/?next=/media/library/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "a-long-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#dropzone[data-ready]")
    assert "No assets match" in page.inner_text("#asset-grid")

    page.set_input_files("#upload-files", [
        {"name": "team-photo.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg_bytes(800, 600)},
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"this is text, not a picture\n"},
    ])
    page.wait_for_selector("#upload-results li.bad")
    page.wait_for_selector(".media-card >> text=team-photo.jpg")

    outcomes = page.inner_text("#upload-results")
    assert "team-photo.jpg: Uploaded." in outcomes
    assert "notes.png: The file is not a JPEG, PNG, WebP or GIF image" in outcomes
    assert page.locator(".media-card").count() == 1
    assert list(Asset.objects.values_list("name", flat=True)) == ["team-photo.jpg"]
