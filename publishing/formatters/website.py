from publishing.formatters.base import ChannelFormatter, register


@register
class WebsiteFormatter(ChannelFormatter):
    """The public page and feeds of AICMO itself: the whole Markdown article."""

    key = "website"
    label = "Website"
    markdown = True
    uses_title = True
    hashtag_style = "tags"

    def render(self, version) -> str:
        return version.body
