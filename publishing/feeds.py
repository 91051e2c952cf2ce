"""RSS 2.0 and Atom feeds of what each website channel published (django.contrib.syndication)."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from publishing.markdown import render_markdown
from publishing.models import Channel
from publishing.selectors import channel_feed_jobs

FEED_SIZE = 30


class ChannelRssFeed(Feed):
    feed_type = Rss201rev2Feed

    def get_object(self, request, slug):
        return get_object_or_404(Channel, slug=slug, active=True)

    def title(self, channel):
        return channel.name

    def link(self, channel):
        return f"{settings.PUBLIC_BASE_URL}/"

    def description(self, channel):
        return f"What {channel.name} published."

    def items(self, channel):
        return channel_feed_jobs(channel=channel)[:FEED_SIZE]

    def item_title(self, job):
        return job.version.title or job.content.title

    def item_description(self, job):
        return str(render_markdown(job.version.body))

    def item_link(self, job):
        return job.external_url

    def item_guid(self, job):
        return job.external_url

    def item_pubdate(self, job):
        return job.published_at

    def item_updateddate(self, job):
        return job.published_at

    def item_author_name(self, job):
        return job.content.author.get_full_name() or job.content.author.get_username()

    def item_categories(self, job):
        return list(job.content.categories or []) + list(job.content.tags or [])


class ChannelAtomFeed(ChannelRssFeed):
    feed_type = Atom1Feed

    def subtitle(self, channel):
        return self.description(channel)
