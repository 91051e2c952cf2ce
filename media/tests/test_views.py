import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aicmo_site.testing.media import renditions_url, served
from media.models import Asset
from media.services import asset_renditions_generate, asset_submit, asset_upload, asset_usage_record
from media.tests import images
from media.tests.factories import AssetFactory


@pytest.fixture
def logged_in(client, make_user):
    def login(role):
        user = make_user(f"page-{role.lower()}", role=role)
        client.force_login(user)
        client.user = user
        return client

    return login


def test_grid_lists_filters_and_paginates_in_fixed_queries(logged_in, library, django_assert_max_num_queries):
    client = logged_in("Marketer")
    for seed in range(3):
        asset_renditions_generate(asset_id=AssetFactory(library=library, name=f"Beach {seed}").pk)
    AssetFactory(library=library, name="Office")
    with django_assert_max_num_queries(14):
        page = client.get(reverse("media:asset-grid"), {"q": "beach", "sort": "name"})
    html = page.content.decode()
    assert page.status_code == 200 and html.count('class="card media-card"') == 3
    assert renditions_url() in html and "Office" not in html


def test_grid_query_count_does_not_grow_with_assets(logged_in, library):
    client = logged_in("Marketer")
    AssetFactory.create_batch(2, library=library)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("media:asset-grid"))
    AssetFactory.create_batch(6, library=library)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("media:asset-grid"))
    assert len(many) == len(few)


def test_empty_grid_says_so(logged_in, db):
    assert "No assets match" in logged_in("Analyst").get(reverse("media:asset-grid")).content.decode()


def test_upload_answers_each_file_in_json(logged_in, library):
    client = logged_in("Marketer")
    response = client.post(
        reverse("media:asset-upload"),
        {"library": library.pk,
         "files": [images.upload(images.jpeg_bytes(), "ok.jpg"), images.upload(images.SVG, "x.svg")]},
        HTTP_ACCEPT="application/json",
    )
    good, bad = response.json()["results"]
    assert good["accepted"] and not bad["accepted"] and "SVG" in bad["message"]
    assert Asset.objects.count() == 1


def test_plain_form_upload_redirects_with_messages(logged_in, library):
    client = logged_in("Marketer")
    response = client.post(reverse("media:asset-upload"),
                           {"library": library.pk, "files": [images.upload(b"text", "a.png")]}, follow=True)
    assert "not a JPEG, PNG, WebP or GIF" in response.content.decode()


def test_analyst_cannot_upload(logged_in, library):
    response = logged_in("Analyst").post(reverse("media:asset-upload"), {"library": library.pk})
    assert response.status_code == 403


def test_detail_shows_renditions_usage_performance_and_suggestions(logged_in, library):
    client = logged_in("Marketer")
    asset = AssetFactory(library=library, alt_text="")
    asset_renditions_generate(asset_id=asset.pk)
    asset_usage_record(asset=asset, used_in_kind="content_version", used_in_id=12, channel="linkedin")
    html = client.get(reverse("media:asset-detail", args=[asset.pk])).content.decode()
    assert "instagram_square" in html and "content_version 12" in html
    assert 'data-code="missing_alt_text"' in html and "it can be archived, not deleted" in html


def test_approver_approves_from_the_page(logged_in, library, make_user):
    asset = AssetFactory(library=library)
    asset_submit(asset=asset, by=make_user("author", role="Marketer"))
    client = logged_in("Approver")
    page = client.get(reverse("media:asset-detail", args=[asset.pk])).content.decode()
    assert 'value="approve"' in page
    client.post(reverse("media:asset-review", args=[asset.pk]), {"action": "approve"})
    asset.refresh_from_db()
    assert asset.status == "approved"


def test_reject_without_note_shows_the_reason(logged_in, library, make_user):
    asset = AssetFactory(library=library, status="in_review")
    response = logged_in("Approver").post(reverse("media:asset-review", args=[asset.pk]), {"action": "reject"},
                                          follow=True)
    assert "Say why" in response.content.decode()


def test_focal_point_form_saves(logged_in, library):
    asset = AssetFactory(library=library)
    logged_in("Marketer").post(reverse("media:asset-focal-point", args=[asset.pk]), {"x": "0.1", "y": "0.9"})
    asset.refresh_from_db()
    assert (asset.focal_x, asset.focal_y) == (0.1, 0.9)


def test_metadata_form_errors_are_shown(logged_in, library):
    asset = AssetFactory(library=library)
    response = logged_in("Marketer").post(reverse("media:asset-detail", args=[asset.pk]),
                                          {"name": "", "library": library.pk, "rights_expire_on": "soon"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()


def test_delete_asks_for_confirmation_then_deletes(logged_in, library):
    asset = AssetFactory(library=library)
    client = logged_in("Marketer")
    assert "Delete “" in client.get(reverse("media:asset-delete", args=[asset.pk])).content.decode()
    client.post(reverse("media:asset-delete", args=[asset.pk]))
    assert not Asset.objects.filter(pk=asset.pk).exists()


def test_bulk_tag_and_approve(logged_in, library):
    assets = AssetFactory.create_batch(2, library=library, status="in_review")
    client = logged_in("Marketer")
    client.post(reverse("media:asset-bulk"), {"action": "tag", "tag": "autumn", "ids": [a.pk for a in assets]})
    assert Asset.objects.filter(tags__name="autumn").count() == 2
    approver = logged_in("Approver")
    approver.post(reverse("media:asset-bulk"), {"action": "approve", "ids": [a.pk for a in assets]})
    assert Asset.objects.filter(status="approved").count() == 2


def test_admin_pages_render(admin_client, library):
    asset = AssetFactory(library=library)
    asset_renditions_generate(asset_id=asset.pk)
    assert admin_client.get("/admin/media/asset/").status_code == 200
    assert "Suggestions" in admin_client.get(f"/admin/media/asset/{asset.pk}/change/").content.decode()
    response = admin_client.post("/admin/media/asset/add/", {"library": library.pk, "upload": images.upload(
        images.png_bytes(seed=4), "logo.png"), "name": "", "alt_text": ""})
    assert response.status_code == 302 and Asset.objects.filter(mime_type="image/png").exists()
    refused = admin_client.post("/admin/media/asset/add/", {"library": library.pk, "upload": images.upload(
        images.SVG, "x.svg")})
    assert "SVG files are refused" in refused.content.decode()


def test_detail_shows_rendition_progress_and_the_card_polls_until_all_are_made(logged_in, library,
                                                                               django_assert_max_num_queries):
    client = logged_in("Analyst")
    asset = AssetFactory(library=library)
    page = client.get(reverse("media:asset-detail", args=[asset.pk]))
    progress = page.context["progress"]
    assert progress["done"] == 0 and progress["total"] > 1 and not progress["complete"]
    card_url = reverse("media:asset-renditions", args=[asset.pk])
    assert f'data-poll="{card_url}"'.encode() in page.content and b"media/renditions.js" in page.content

    asset_renditions_generate(asset_id=asset.pk)
    with django_assert_max_num_queries(7):
        card = client.get(card_url)
    assert card.context["progress"]["complete"] and b"data-poll" not in card.content
    assert b"instagram_square" in card.content and b"<html" not in card.content

    # A new focal point outdates the renditions until the worker remakes them; the old ones stay listed.
    Asset.objects.filter(pk=asset.pk).update(focal_x=0.2)
    outdated = client.get(card_url)
    assert outdated.context["progress"]["done"] == 0 and b"data-poll" in outdated.content
    assert b"instagram_square" in outdated.content


def test_documents_have_no_rendition_progress(logged_in, library):
    asset = AssetFactory(library=library, kind="document", mime_type="application/pdf", width=None, height=None)
    card = logged_in("Analyst").get(reverse("media:asset-renditions", args=[asset.pk]))
    assert card.context["progress"] is None and b"Only images get renditions" in card.content


def test_grid_search_box_says_what_it_is(logged_in, db):
    page = logged_in("Analyst").get(reverse("media:asset-grid"))
    assert b'type="search"' in page.content and b'placeholder="Search assets"' in page.content


def test_the_original_upload_is_served_only_to_people_with_access(client, logged_in, library):
    content = images.jpeg_bytes(300, 200, gps=True)
    asset, _, _ = asset_upload(library=library, file=images.upload(content, "office.jpg"), uploaded_by=None)
    url = reverse("media:asset-original", args=[asset.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]

    marketer = logged_in("Marketer")
    page = marketer.get(reverse("media:asset-detail", args=[asset.pk])).content.decode()
    assert url in page and asset.file.url not in page
    answer = served(marketer, marketer.get(url))
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    assert answer["Cache-Control"] == "private, no-store"
    assert answer.content == content
