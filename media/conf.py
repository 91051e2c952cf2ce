"""Media settings. Defaults come from the environment; `media_setting(NAME)` reads
django.conf.settings first at call time, so tests can override with pytest-django's `settings`."""

from django.conf import settings

from aicmo_site.env import env_int, env_list, env_str

MB = 1024 * 1024

DEFAULTS = {
    # Pillow's own bomb guard (Image.MAX_IMAGE_PIXELS, about 89 MP) stays above this limit so our
    # refusal, with its clear message, comes first; validation turns both into a refusal.
    "MEDIA_MAX_IMAGE_PIXELS": env_int("MEDIA_MAX_IMAGE_PIXELS", 50_000_000, minimum=1),
    "MEDIA_MAX_GIF_FRAMES": env_int("MEDIA_MAX_GIF_FRAMES", 500, minimum=1),
    # Frames × canvas of an animated GIF: its publish rendition decodes every frame (e.g. 170 frames
    # of 1080×1080), so a small file of many large, empty frames cannot exhaust the worker's memory.
    "MEDIA_MAX_ANIMATION_PIXELS": env_int("MEDIA_MAX_ANIMATION_PIXELS", 200_000_000, minimum=1),
    "MEDIA_MAX_IMAGE_BYTES": env_int("MEDIA_MAX_IMAGE_MB", 30, minimum=1) * MB,
    "MEDIA_MAX_VIDEO_BYTES": env_int("MEDIA_MAX_VIDEO_MB", 500, minimum=1) * MB,
    "MEDIA_MAX_AUDIO_BYTES": env_int("MEDIA_MAX_AUDIO_MB", 100, minimum=1) * MB,
    "MEDIA_MAX_DOCUMENT_BYTES": env_int("MEDIA_MAX_DOCUMENT_MB", 50, minimum=1) * MB,
    "MEDIA_NEAR_DUPLICATE_DISTANCE": env_int("MEDIA_NEAR_DUPLICATE_DISTANCE", 6, minimum=0),
    "MEDIA_RESPONSIVE_WIDTHS": [int(w) for w in env_list("MEDIA_RESPONSIVE_WIDTHS", ["640", "1280", "1920"])],
    "MEDIA_CHANNEL_PRESETS": env_list(
        "MEDIA_CHANNEL_PRESETS", ["instagram_square", "instagram_portrait", "linkedin_link", "x_card", "open_graph"]
    ),
    "MEDIA_RIGHTS_WARNING_DAYS": env_int("MEDIA_RIGHTS_WARNING_DAYS", 30, minimum=0),
    "MEDIA_UNUSED_DAYS": env_int("MEDIA_UNUSED_DAYS", 90, minimum=1),
    "MEDIA_MIN_IMPRESSIONS_FOR_CTR": env_int("MEDIA_MIN_IMPRESSIONS_FOR_CTR", 1000, minimum=1),
    # "Far below" the library's median click-through rate means under this percentage of it.
    "MEDIA_LOW_CTR_PERCENT": env_int("MEDIA_LOW_CTR_PERCENT", 50, minimum=1),
    # An nginx `internal` location serving MEDIA_ROOT (e.g. /protected-media/): originals are then sent
    # by the web server after Django checked the person (media.serving); empty: Django sends them.
    "MEDIA_ORIGINALS_ACCEL_REDIRECT": env_str("MEDIA_ORIGINALS_ACCEL_REDIRECT", "") or "",
    # Per channel, the largest image file the channel accepts (bytes).
    "MEDIA_CHANNEL_MAX_BYTES": {"instagram": 8 * MB, "x": 5 * MB, "linkedin": 5 * MB, "facebook": 4 * MB},
}


def media_setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
