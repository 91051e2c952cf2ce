from publishing.formatters.base import ChannelFormatter, register


@register
class InstagramFormatter(ChannelFormatter):
    key = "instagram"
    label = "Instagram"
    max_length = 2200
    # Instagram content publishing API: JPEG up to 8 MiB, aspect ratio 4:5 to 1.91:1.
    image_max_bytes = 8 * 1024 * 1024
    image_aspect = (0.8, 1.91)
    max_hashtags = 30
    max_mentions = 20
    requires_media = True
    # Links in captions are not clickable; the call to action points to the profile link instead.
    default_cta_text = "Link in bio"
    clickable_links = False
