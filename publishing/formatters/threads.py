from publishing.formatters.base import ChannelFormatter, register


@register
class ThreadsFormatter(ChannelFormatter):
    key = "threads"
    label = "Threads"
    max_length = 500
    # Threads links one topic per post.
    max_hashtags = 1
