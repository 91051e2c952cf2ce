import io

import pytest
from django.core.management import CommandError, call_command

from media.models import Rendition
from media.tests.factories import AssetFactory, LibraryFactory


def test_regenerate_renditions_for_one_library_with_progress(library):
    mine = AssetFactory.create_batch(2, library=library)
    other = AssetFactory(library=LibraryFactory(name="Other"))
    out = io.StringIO()
    call_command("regenerate_renditions", library="Brand", stdout=out)
    assert "] 2/2" in out.getvalue() and "2 image(s) checked" in out.getvalue()
    assert set(Rendition.objects.values_list("asset_id", flat=True)) == {a.pk for a in mine}
    assert not Rendition.objects.filter(asset=other).exists()
    again = io.StringIO()
    call_command("regenerate_renditions", library="Brand", stdout=again)
    assert "0 rendition(s) written" in again.getvalue()


def test_unknown_library_is_an_error(library):
    with pytest.raises(CommandError, match="No library is named 'Nope'"):
        call_command("regenerate_renditions", library="Nope", stdout=io.StringIO())


def test_a_broken_file_is_reported_and_the_others_still_rendered(library):
    broken = AssetFactory(library=library, content=b"not an image at all")
    fine = AssetFactory(library=library)
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 image"):
        call_command("regenerate_renditions", stdout=io.StringIO(), stderr=err)
    assert f"asset {broken.pk}" in err.getvalue()
    assert Rendition.objects.filter(asset=fine).exists()
