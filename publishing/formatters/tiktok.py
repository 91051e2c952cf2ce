from publishing.formatters.base import ChannelFormatter, register


@register
class TikTokFormatter(ChannelFormatter):
    key = "tiktok"
    label = "TikTok"
    max_length = 2000
    requires_media = True
    # Captions show addresses as plain text: the call to action points to the profile link.
    default_cta_text = "Link in bio"
    clickable_links = False
    # Content Posting API, "Media Transfer Guide" (developers.tiktok.com/doc/content-posting-api-media-transfer-guide),
    # image restrictions: at most 20 MB and 1080p (1920 x 1080 pixels) per image.
    image_max_bytes = 20 * 1024 * 1024
    image_max_pixels = 1920 * 1080
