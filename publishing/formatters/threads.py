from publishing.formatters.base import ChannelFormatter, register


@register
class ThreadsFormatter(ChannelFormatter):
    key = "threads"
    label = "Threads"
    max_length = 500
    # Threads API media specifications: images up to 8 MB, an aspect ratio limit of 10:1.
    image_max_bytes = 8 * 1024 * 1024
    image_aspect = (0.1, 10.0)
    # Threads links one topic per post.
    max_hashtags = 1
