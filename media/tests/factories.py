import datetime
import hashlib

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from media.choices import AssetKindChoices, OrientationChoices
from media.models import Asset, AssetPerformance, AssetTag, AssetUsage, Library
from media.tests.images import jpeg_bytes


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"media-user-{n}")


class LibraryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Library
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Library {n}")


class AssetTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssetTag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")


class AssetFactory(factory.django.DjangoModelFactory):
    """A stored JPEG asset, written without the upload checks (use asset_upload to test those)."""

    class Meta:
        model = Asset

    class Params:
        content = factory.LazyAttribute(lambda o: jpeg_bytes(400, 300, seed=o.seed))
        seed = factory.Sequence(lambda n: n)

    library = factory.SubFactory(LibraryFactory)
    name = factory.Sequence(lambda n: f"Photo {n}")
    kind = AssetKindChoices.IMAGE
    mime_type = "image/jpeg"
    width = 400
    height = 300
    orientation = OrientationChoices.LANDSCAPE
    alt_text = "A photo"
    size_bytes = factory.LazyAttribute(lambda o: len(o.content))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.content).hexdigest())
    file = factory.LazyAttribute(lambda o: ContentFile(o.content, name="photo.jpg"))


class AssetUsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssetUsage

    asset = factory.SubFactory(AssetFactory)
    used_in_kind = "content_version"
    used_in_id = factory.Sequence(str)
    channel = "linkedin"
    count = 1
    first_used_at = factory.Faker("date_time", tzinfo=datetime.UTC)
    last_used_at = factory.SelfAttribute("first_used_at")


class AssetPerformanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssetPerformance

    asset = factory.SubFactory(AssetFactory)
    channel = "linkedin"
    day = factory.Faker("date_object")
    impressions = 1000
    clicks = 20
    conversions = 2
