"""The asset page's renditions card follows the worker in a real Chromium (renditions.js)."""

import pytest
from django.urls import reverse

from media.services import asset_renditions_generate
from media.tests.factories import AssetFactory, LibraryFactory
from tests.conftest import browser, page  # noqa: F401  (the shared Chromium fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_renditions_card_shows_progress_then_the_renditions_without_a_reload(live_server, page, make_user):  # noqa: F811
    make_user("mia", role="Marketer", password="a-long-password-1")
    asset = AssetFactory(library=LibraryFactory(name="Brand"), name="Beach")
    page.goto(f"{live_server.url}/accounts/login/?next={reverse('media:asset-detail', args=[asset.pk])}")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "a-long-password-1")
    page.click("button[type=submit]")
    assert "0 of" in page.inner_text("#renditions-progress")

    asset_renditions_generate(asset_id=asset.pk)  # what the worker does
    page.wait_for_selector("#renditions >> text=instagram_square")
    assert page.locator("#renditions-progress").count() == 0
    assert page.get_attribute("#renditions", "data-poll") is None
