"""With DEBUG, Django serves the media library's files and nothing else of MEDIA_ROOT: import files and
their error reports hold contact data."""

import importlib

import pytest
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, resolve, set_urlconf

import aicmo_site.urls


@pytest.fixture
def debug_urls():
    with override_settings(DEBUG=True):
        clear_url_caches()
        yield importlib.reload(aicmo_site.urls)
    importlib.reload(aicmo_site.urls)
    clear_url_caches()
    set_urlconf(None)


def test_debug_serves_renditions_and_assets_but_not_imports(debug_urls):
    assert resolve("/media/renditions/4/publish.jpg", urlconf=debug_urls).kwargs["path"] == "4/publish.jpg"
    assert resolve("/media/assets/ab/abcdef.png", urlconf=debug_urls).kwargs["path"] == "ab/abcdef.png"
    for private in ("/media/crm/imports/contacts.csv", "/media/crm/import-errors/report.csv"):
        with pytest.raises(Resolver404):
            resolve(private, urlconf=debug_urls)
