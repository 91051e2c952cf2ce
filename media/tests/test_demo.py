from media.demo import PICTURES, seed
from media.models import Asset, Rendition


def test_demo_seed_makes_a_tagged_library_once(make_user, settings):
    # Thumbnails only: the other renditions are covered in test_renditions and cost time here.
    settings.MEDIA_RESPONSIVE_WIDTHS, settings.MEDIA_CHANNEL_PRESETS = [], []
    make_user("marketer", role="Marketer")
    make_user("approver", role="Approver")
    assert "12 images (12 new)" in seed()
    assert "12 images (0 new)" in seed()
    assert Asset.objects.count() == len(PICTURES) == 12
    statuses = Asset.objects.order_by("status").values_list("status", flat=True).distinct()
    assert list(statuses) == ["approved", "draft", "in_review"]
    assert Asset.objects.filter(tags__name="team").count() == 3
    assert Rendition.objects.filter(preset="thumbnail").count() == 12
