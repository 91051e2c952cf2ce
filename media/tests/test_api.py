import pytest

from aicmo_site.testing.media import renditions_url
from media.models import Asset
from media.services import asset_renditions_generate, asset_submit, asset_usage_record
from media.tests import images
from media.tests.factories import AssetFactory, AssetPerformanceFactory


@pytest.fixture
def marketer_api(api_as):
    return api_as("Marketer")


@pytest.fixture
def approver_api(api_as):
    return api_as("Approver")


def test_multipart_upload_of_several_files_keeps_the_good_ones(marketer_api, library):
    response = marketer_api.post(
        "/api/assets/",
        {"library": library.pk, "files": [images.upload(images.jpeg_bytes(seed=1), "good.jpg"),
                                          images.upload(b"hello", "bad.png")]},
        format="multipart",
    )
    assert response.status_code == 201
    good, bad = response.json()["results"]
    assert good["accepted"] and good["created"] and good["asset"]["mime_type"] == "image/jpeg"
    assert good["asset"]["uploaded_by"] == marketer_api.user.username
    assert not bad["accepted"] and bad["error"]["code"] == "unsupported_type"
    assert Asset.objects.count() == 1


def test_upload_where_every_file_is_refused_answers_400(marketer_api, library):
    response = marketer_api.post(
        "/api/assets/", {"library": library.pk, "files": [images.upload(images.SVG, "x.svg")]}, format="multipart"
    )
    assert response.status_code == 400 and response.json()["results"][0]["error"]["code"] == "svg_refused"


def test_html_dressed_as_mp3_mp4_or_pdf_is_refused_and_nothing_is_stored(marketer_api, library):
    names = {"mp3-frame": "song.mp3", "mp4-ftyp": "clip.mp4", "pdf": "brochure.pdf",
             "pdf-html-appended": "flyer.pdf", "pdf-truncated": "cut.pdf"}
    response = marketer_api.post("/api/assets/", {"library": library.pk, "files": [
        images.upload(images.POLYGLOTS[key], name) for key, name in names.items()]}, format="multipart")
    assert response.status_code == 400
    assert [item["error"]["code"] for item in response.json()["results"]] == ["not_what_it_seems"] * 5
    assert not Asset.objects.exists()


def test_upload_without_library_has_field_errors(marketer_api):
    response = marketer_api.post("/api/assets/", {"files": [images.upload(images.PDF, "a.pdf")]}, format="multipart")
    assert response.status_code == 400 and "library" in response.json()["fields"]


def test_same_bytes_uploaded_again_return_the_existing_asset(marketer_api, library):
    content = images.png_bytes(seed=9)
    marketer_api.post("/api/assets/", {"library": library.pk, "files": [images.upload(content, "a.png")]},
                      format="multipart")
    again = marketer_api.post("/api/assets/", {"library": library.pk, "files": [images.upload(content, "b.png")]},
                              format="multipart").json()["results"][0]
    assert again["accepted"] and not again["created"] and "already stored" in again["notice"]


def test_list_filters_and_shows_rendition_urls_in_fixed_queries(marketer_api, library, django_assert_num_queries):
    for seed in range(3):
        asset = AssetFactory(library=library, content=images.jpeg_bytes(700, 500, seed=seed))
        asset_renditions_generate(asset_id=asset.pk)
    AssetFactory(library=library, kind="document", mime_type="application/pdf", width=None, height=None)
    with django_assert_num_queries(7):
        response = marketer_api.get("/api/assets/", {"library": library.pk, "kind": "image", "ordering": "name"})
    body = response.json()
    assert body["count"] == 3
    thumbnail = next(r for r in body["results"][0]["renditions"] if r["preset"] == "thumbnail")
    assert thumbnail["url"].startswith(renditions_url("http://testserver/")) and thumbnail["width"] == 320


def test_submit_approve_reject_follow_roles(marketer_api, approver_api, library):
    asset = AssetFactory(library=library)
    assert marketer_api.post(f"/api/assets/{asset.pk}/submit/", {"note": "please"}).json()["status"] == "in_review"
    assert marketer_api.post(f"/api/assets/{asset.pk}/approve/").status_code == 403
    assert "approve" not in marketer_api.get(f"/api/assets/{asset.pk}/").json()["available_actions"]
    assert "approve" in approver_api.get(f"/api/assets/{asset.pk}/").json()["available_actions"]
    refused = approver_api.post(f"/api/assets/{asset.pk}/reject/", {})
    assert refused.status_code == 400 and refused.json()["code"] == "note_required"
    assert approver_api.post(f"/api/assets/{asset.pk}/approve/").json()["status"] == "approved"
    conflict = approver_api.post(f"/api/assets/{asset.pk}/approve/")
    assert conflict.status_code == 409 and conflict.json()["code"] == "invalid_transition"


def test_focal_point_is_validated(marketer_api, library):
    asset = AssetFactory(library=library)
    bad = marketer_api.post(f"/api/assets/{asset.pk}/focal-point/", {"x": 2, "y": 0.5})
    assert bad.status_code == 400 and "x" in bad.json()["fields"]
    good = marketer_api.post(f"/api/assets/{asset.pk}/focal-point/", {"x": 0.25, "y": 0.75}).json()
    assert (good["focal_x"], good["focal_y"]) == (0.25, 0.75)


def test_usage_performance_and_suggestions(marketer_api, library):
    asset = AssetFactory(library=library, alt_text="")
    asset_usage_record(asset=asset, used_in_kind="content_version", used_in_id=7, campaign_id=2, channel="x")
    AssetPerformanceFactory(asset=asset, channel="x", campaign_id=2, impressions=200, clicks=10)
    usage = marketer_api.get(f"/api/assets/{asset.pk}/usage/").json()
    assert usage[0]["used_in_id"] == "7" and usage[0]["count"] == 1
    performance = marketer_api.get(f"/api/assets/{asset.pk}/performance/").json()
    assert performance == [{"channel": "x", "campaign_id": 2, "impressions": 200, "clicks": 10, "conversions": 2,
                            "ctr": 0.05}]
    suggestions = marketer_api.get(f"/api/assets/{asset.pk}/suggestions/").json()
    assert "missing_alt_text" in [item["code"] for item in suggestions]
    aspect = next(item for item in suggestions if item["code"] == "wrong_aspect_ratio")
    assert aspect["figures"]["preset"] and "message" in aspect


def test_asset_in_use_cannot_be_deleted(marketer_api, library):
    asset = AssetFactory(library=library)
    asset_usage_record(asset=asset, used_in_kind="campaign", used_in_id=1)
    response = marketer_api.delete(f"/api/assets/{asset.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "asset_in_use"
    unused = AssetFactory(library=library)
    assert marketer_api.delete(f"/api/assets/{unused.pk}/").status_code == 204


def test_metadata_update(marketer_api, library):
    asset = AssetFactory(library=library)
    body = marketer_api.patch(f"/api/assets/{asset.pk}/", {"alt_text": "Two people", "tags": ["team"],
                                                           "rights_expire_on": "2027-01-31"}).json()
    assert (body["alt_text"], body["tags"], body["rights_expire_on"]) == ("Two people", ["team"], "2027-01-31")


def test_bulk_tag_and_bulk_approve(marketer_api, approver_api, library):
    assets = AssetFactory.create_batch(3, library=library)
    assert marketer_api.post("/api/assets/bulk-tag/", {"ids": [a.pk for a in assets], "tags": ["q4"]}).json() == {
        "tagged": 3}
    for asset in assets[:2]:
        asset_submit(asset=asset, by=marketer_api.user)
    body = approver_api.post("/api/assets/bulk-approve/", {"ids": [a.pk for a in assets]}).json()
    assert body["approved"] == [assets[0].pk, assets[1].pk] or sorted(body["approved"]) == sorted(
        [assets[0].pk, assets[1].pk])
    assert [item["id"] for item in body["refused"]] == [assets[2].pk]
    assert marketer_api.post("/api/assets/bulk-approve/", {"ids": [assets[2].pk]}).status_code == 403
    missing = marketer_api.post("/api/assets/bulk-tag/", {"ids": [999999], "tags": ["x"]})
    assert missing.status_code == 400 and missing.json()["extra"] == {"asset_ids": [999999]}


def test_libraries_list_and_create(marketer_api, library, django_assert_num_queries):
    AssetFactory.create_batch(2, library=library)
    created = marketer_api.post("/api/libraries/", {"name": "Events", "description": "Trade fairs"})
    assert created.status_code == 201 and created.json()["owner"] == marketer_api.user.username
    with django_assert_num_queries(2):
        rows = marketer_api.get("/api/libraries/").json()["results"]
    assert {row["name"]: row["asset_count"] for row in rows} == {"Brand": 2, "Events": 0}
    assert marketer_api.post("/api/libraries/", {"name": "Events"}).status_code == 400


def test_analyst_reads_but_cannot_upload(api_as, library):
    analyst = api_as("Analyst")
    assert analyst.get("/api/assets/").status_code == 200
    response = analyst.post("/api/assets/", {"library": library.pk, "files": [images.upload(images.PDF, "a.pdf")]},
                            format="multipart")
    assert response.status_code == 403
