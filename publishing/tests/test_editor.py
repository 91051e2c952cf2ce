"""The content editor: the Markdown preview, library assets on content and versions."""

import pytest
from django.urls import reverse

from aicmo_site.roles import ANALYST
from media.models import AssetTag, AssetUsage, Rendition
from media.tests.factories import AssetFactory
from publishing.choices import ContentStatus
from publishing.forms import VersionForm
from publishing.media_picker import PICKER_PAGE_SIZE
from publishing.services import content_create, versions_generate
from publishing.tests.factories import approve

pytestmark = pytest.mark.django_db


def test_preview_renders_markdown_safely(marketer_client, django_assert_num_queries):
    with django_assert_num_queries(4):
        response = marketer_client.post(reverse("publishing:content-preview"),
                                        {"body": "# Launch\n\nWe shipped **fast** imports <script>x()</script>"})
    html = response.content.decode()
    assert "<h1>Launch</h1>" in html and "<strong>fast</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_editor_shows_the_saved_body_rendered_and_asks_for_the_preview(marketer_client):
    content = content_create(by=marketer_client.user, title="Launch", body="We shipped **fast** imports")
    page = marketer_client.get(reverse("publishing:content-edit", args=[content.pk]))
    html = page.content.decode()
    assert '<div id="body-preview" aria-live="polite"><p>We shipped <strong>fast</strong> imports</p>' in html
    assert f'hx-post="{reverse("publishing:content-preview")}"' in html and "vendor/htmx.min.js" in html


def test_an_analyst_gets_no_preview(client, make_user):
    client.force_login(make_user("ana", role=ANALYST))
    assert client.post(reverse("publishing:content-preview"), {"body": "x"}).status_code == 403


def _thumbnail(asset):
    return Rendition.objects.create(asset=asset, preset="thumbnail", format="jpeg", width=40, height=30,
                                    file=f"renditions/{asset.pk}/thumbnail.jpg", source_key="k")


def test_the_editor_offers_approved_assets_by_thumbnail_and_name(marketer_client, django_assert_num_queries):
    content = content_create(by=marketer_client.user, title="Launch", body="Body")
    approved = AssetFactory(status="approved", name="Team photo", alt_text="The team on the roof")
    _thumbnail(approved)
    draft = AssetFactory(status="draft", name="Unreviewed sketch")
    url = reverse("publishing:content-edit", args=[content.pk])
    # ... the picker's count and first page of assets, with their thumbnails
    with django_assert_num_queries(9):
        page = marketer_client.get(url)
    html = page.content.decode()
    assert "Team photo" in html and 'alt="The team on the roof"' in html
    assert "Unreviewed sketch" not in html
    for n in range(4):
        _thumbnail(AssetFactory(status="approved", name=f"Extra {n}"))
    with django_assert_num_queries(9):
        page = marketer_client.get(url)
    assert page.content.decode().count('class="media-option"') == 5
    # An asset not approved cannot be slipped in by its id either.
    refused = marketer_client.post(url, {"kind": "blog_post", "title": "Launch", "assets": [draft.pk]})
    assert refused.status_code == 200 and "assets" in refused.context["form"].errors
    assert not content.media.exists()


def test_assets_picked_for_content_are_recorded_and_new_versions_start_with_them(marketer_client):
    content = content_create(by=marketer_client.user, title="Launch", body="Body")
    photo, video = AssetFactory(status="approved"), AssetFactory(status="approved", name="Clip")
    url = reverse("publishing:content-edit", args=[content.pk])
    marketer_client.post(url, {"kind": "blog_post", "title": "Launch", "body": "Body", "assets": [photo.pk, video.pk]})
    assert set(content.media.all()) == {photo, video}
    assert AssetUsage.objects.get(asset=photo, used_in_kind="content").count == 1
    assert content.events.filter(action="edited").exists()
    (version,) = versions_generate(content=content, kinds=["instagram"])
    assert set(version.media.all()) == {photo, video}
    # Taking one off the content releases its use; the version keeps its own pick.
    marketer_client.post(url, {"kind": "blog_post", "title": "Launch", "body": "Body", "assets": [photo.pk]})
    assert list(content.media.all()) == [photo]
    assert AssetUsage.objects.get(asset=video, used_in_kind="content").count == 0
    assert set(version.media.all()) == {photo, video}


def test_each_version_has_its_own_assets(marketer_client):
    content = content_create(by=marketer_client.user, title="Launch", body="Body", tags=["a"])
    x, linkedin = versions_generate(content=content, kinds=["x", "linkedin"])
    photo = AssetFactory(status="approved", name="Square photo")
    url = reverse("publishing:version-edit", args=[x.pk])
    assert "Square photo" in marketer_client.get(url).content.decode()
    response = marketer_client.post(url, {**VersionForm.initial_for(x), "assets": [photo.pk]})
    assert response.status_code == 302
    x.refresh_from_db()
    assert list(x.media.all()) == [photo] and not linkedin.media.exists()
    # Only the picture changed: the text may still be regenerated.
    assert x.edited_by_hand is False
    usage = AssetUsage.objects.get(asset=photo)
    assert (usage.used_in_kind, usage.used_in_id, usage.channel) == ("content_version", str(x.pk), "x")


def test_attaching_an_asset_to_approved_content_sends_it_back_to_review(marketer_client):
    content = approve(content_create(by=marketer_client.user, title="Launch", body="Body"))
    photo = AssetFactory(status="approved")
    marketer_client.post(reverse("publishing:content-edit", args=[content.pk]),
                         {"kind": "blog_post", "title": "Launch", "body": "Body", "assets": [photo.pk]})
    content.refresh_from_db()
    assert content.status == ContentStatus.IN_REVIEW and list(content.media.all()) == [photo]


def test_a_version_for_a_channel_without_typed_mentions_has_no_mentions_field(marketer_client):
    content = content_create(by=marketer_client.user, title="Launch", body="Body")
    x, linkedin = versions_generate(content=content, kinds=["x", "linkedin"])
    assert b'name="mentions"' in marketer_client.get(reverse("publishing:version-edit", args=[x.pk])).content
    assert b'name="mentions"' not in marketer_client.get(
        reverse("publishing:version-edit", args=[linkedin.pk])).content


def test_the_content_page_shows_the_attached_assets_in_a_fixed_number_of_queries(
    marketer_client, django_assert_num_queries
):
    photo = AssetFactory(status="approved", name="Team photo", alt_text="The team on the roof")
    _thumbnail(photo)
    content = content_create(by=marketer_client.user, title="Launch", body="Body", media=[photo])
    url = reverse("publishing:content-detail", args=[content.pk])
    empty = marketer_client.get(reverse("publishing:content-detail", args=[
        content_create(by=marketer_client.user, title="Bare", body="Body").pk])).content.decode()
    assert "None attached: pick approved ones from the library in the editor." in empty
    # 16: the automated checks add the content's campaigns (UTM), the readability targets (per kind and the
    # segments' own), the blocking checks and the viewer's role; the change history is one more.
    with django_assert_num_queries(16):
        marketer_client.get(url)
    for n in range(3):
        extra = AssetFactory(status="approved", name=f"Extra {n}")
        _thumbnail(extra)
        content.media.add(extra)
    with django_assert_num_queries(16):
        html = marketer_client.get(url).content.decode()
    section = html[html.index('id="content-media"'):]
    assert 'alt="The team on the roof"' in section and section.count('class="media-option"') == 4
    assert f'href="/media/library/{photo.pk}/"' in section


def test_the_picker_searches_by_name_or_tag_and_pages_keeping_the_picks(marketer_client, django_assert_num_queries):
    roof = AssetFactory(status="approved", name="Team on the roof")
    roof.tags.add(AssetTag.objects.create(name="summer"))
    AssetFactory(status="draft", name="Team draft")
    beach = AssetFactory(status="approved", name="Beach")
    for n in range(PICKER_PAGE_SIZE + 2):
        _thumbnail(AssetFactory(status="approved", name=f"Product {n:02}"))
    url = reverse("publishing:media-picker")
    marketer_client.get(url)
    # session, user, permissions (2), the picks and their thumbnails, the count, a page and its thumbnails
    with django_assert_num_queries(9):
        first = marketer_client.get(url, {"assets": [beach.pk]}).content.decode()
    assert first.count('class="media-option"') == PICKER_PAGE_SIZE + 1  # the pick, then a page of the others
    assert f'value="{beach.pk}" checked' in first and 'id="media-next"' in first and "Page 1 of 2" in first
    second = marketer_client.get(url, {"assets": [beach.pk], "page": 2}).content.decode()
    assert f'value="{beach.pk}" checked' in second and "Product 13" in second and "Product 00" not in second
    by_tag = marketer_client.get(url, {"media_q": "summer", "assets": [beach.pk]}).content.decode()
    assert "Team on the roof" in by_tag and "Product" not in by_tag and "Team draft" not in by_tag
    assert f'value="{beach.pk}" checked' in by_tag
    by_name = marketer_client.get(url, {"media_q": "team"}).content.decode()
    assert "Team on the roof" in by_name and "Team draft" not in by_name
    assert "No other approved asset matches “nothing”" in marketer_client.get(
        url, {"media_q": "nothing"}).content.decode()
    assert marketer_client.get(url, {"assets": ["x", str(2**64)]}).status_code == 200


def test_the_editor_shows_the_saved_picks_first_and_an_analyst_gets_no_picker(marketer_client, client, make_user):
    photo = AssetFactory(status="approved", name="Zebra photo")
    AssetFactory(status="approved", name="Another")
    content = content_create(by=marketer_client.user, title="Launch", body="Body", media=[photo])
    html = marketer_client.get(reverse("publishing:content-edit", args=[content.pk])).content.decode()
    assert html.index("Zebra photo") < html.index("Another") and f'value="{photo.pk}" checked' in html
    assert 'for="media-q">Search by name or tag</label>' in html
    client.force_login(make_user("ana", role=ANALYST))
    assert client.get(reverse("publishing:media-picker")).status_code == 403
