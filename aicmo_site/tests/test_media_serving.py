"""With DEBUG, Django serves renditions and nothing else of MEDIA_ROOT: originals keep their metadata
(media.serving), import files and their error reports hold contact data."""

import pytest
from django.urls import Resolver404, resolve


def test_debug_serves_renditions_only(debug_media_urls):
    assert resolve("/media/renditions/4/publish.jpg", urlconf=debug_media_urls).kwargs["path"] == "4/publish.jpg"
    for private in ("/media/assets/ab/abcdef.png", "/media/crm/imports/contacts.csv",
                    "/media/crm/import-errors/report.csv"):
        with pytest.raises(Resolver404):
            resolve(private, urlconf=debug_media_urls)
