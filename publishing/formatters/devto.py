from publishing.formatters.base import ChannelFormatter, register


@register
class DevToFormatter(ChannelFormatter):
    key = "devto"
    label = "Dev.to"
    max_length = 100_000
    # Forem refuses an article with more than four tags; tags are lowercase alphanumerics.
    max_hashtags = 4
    hashtag_style = "tags"
    markdown = True
    uses_title = True

    def hashtag(self, word: str) -> str:
        return "".join(c for c in word.lower() if c.isalnum())

    def render(self, version) -> str:
        text = version.body
        if version.cta_url:
            text = f"{text}\n\n[{version.cta_text or self.default_cta_text}]({version.cta_url})"
        return text
