from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from aicmo_site.roles import APPROVER
from publishing.models import Campaign, CampaignContent, Channel, ChannelVersion, Content, PublishingJob
from publishing.services.content import content_approve, content_submit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"writer{n}")


class ContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Content

    title = factory.Sequence(lambda n: f"Launch notes {n}")
    slug = factory.Sequence(lambda n: f"launch-notes-{n}")
    summary = "What changed this week and why it matters."
    body = "# Launch notes\n\nWe shipped **faster imports** and a new [calendar](https://example.com/cal)."
    author = factory.SubFactory(UserFactory)
    tags = factory.LazyFunction(lambda: ["marketing ops", "django"])
    link_url = "https://example.com/launch"


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"Channel {n}")
    slug = factory.Sequence(lambda n: f"channel-{n}")
    kind = "slack"


class ChannelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelVersion

    content = factory.SubFactory(ContentFactory)
    kind = "slack"
    body = "Launch notes: faster imports."


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Spring launch {n}")
    starts_at = factory.LazyFunction(timezone.now)


class JobFactory(factory.django.DjangoModelFactory):
    """A scheduled job due now, with its own campaign, content, channel and version."""

    class Meta:
        model = PublishingJob
        skip_postgeneration_save = True

    campaign = factory.SubFactory(CampaignFactory)
    channel = factory.SubFactory(ChannelFactory)
    version = factory.SubFactory(ChannelVersionFactory, kind=factory.SelfAttribute("..channel.kind"))
    content = factory.SelfAttribute("version.content")
    scheduled_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))
    due_at = factory.SelfAttribute("scheduled_at")

    @factory.post_generation
    def in_campaign(self, create, extracted, **kwargs):
        if create:
            CampaignContent.objects.get_or_create(campaign=self.campaign, content=self.content)
            self.campaign.channels.add(self.channel)


def approve(content: Content) -> Content:
    """Takes content through the real workflow (submitted by its author, approved by an Approver)."""
    approver = UserFactory(username="factory-approver")
    approver.groups.add(Group.objects.get(name=APPROVER))
    content_submit(content=content, by=content.author)
    return content_approve(content=content, by=approver)
