from publishing.formatters.base import ChannelFormatter, register


@register
class LinkedInFormatter(ChannelFormatter):
    key = "linkedin"
    label = "LinkedIn"
    max_length = 3000
    # LinkedIn Images API: at most 36,152,320 pixels.
    image_max_pixels = 36_152_320
    # HubSpot's "Image size requirements for social posts" (knowledge.hubspot.com/social/image-size-requirements-
    # for-social-posts): LinkedIn images from 3:1 to 2:3 (width / height); wider ones are centred and cropped.
    image_aspect = (2 / 3, 3.0)
    max_hashtags = 5
    typed_mentions = False
