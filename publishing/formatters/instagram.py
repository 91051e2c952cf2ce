from publishing.formatters.base import ChannelFormatter, register


@register
class InstagramFormatter(ChannelFormatter):
    key = "instagram"
    label = "Instagram"
    max_length = 2200
    max_hashtags = 30
    max_mentions = 20
    requires_media = True
    # Links in captions are not clickable; the call to action points to the profile link instead.
    default_cta_text = "Link in bio"
    clickable_links = False
