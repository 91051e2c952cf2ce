from publishing.formatters.base import ChannelFormatter, register


@register
class FacebookFormatter(ChannelFormatter):
    key = "facebook"
    label = "Facebook"
    max_length = 63206
    max_hashtags = 10
    typed_mentions = False
    # Graph API, "Uploading Photos" (developers.facebook.com/docs/graph-api/photo-uploads): photos under 4 MB;
    # counted in decimal megabytes, the stricter reading.
    image_max_bytes = 4_000_000
