"""What a job says to its channel: the post, built from the job's channel version."""

from urllib.parse import urlsplit

from django.conf import settings

from gateways.capabilities import ChannelPost
from media.services import asset_public_url
from publishing.formatters import formatter_for
from publishing.links import text_with_utm, with_utm
from publishing.models import PublishingJob


def public_url(content) -> str:
    return f"{settings.PUBLIC_BASE_URL}{content.get_public_url()}"


def site_url(url: str) -> str:
    """An address a channel can fetch: the site's for its own paths; a bucket's or CDN's is absolute already."""
    return url if urlsplit(url).scheme else f"{settings.PUBLIC_BASE_URL}{url}"


def build_post(job: PublishingJob) -> ChannelPost:
    version, content = job.version, job.content
    formatter = formatter_for(version.kind)
    # A picture too big for the channel goes as a smaller copy that fits, one of a shape it refuses as a copy
    # cropped to the nearest shape it takes (the image check says so beforehand).
    limits = {"max_bytes": formatter.image_max_bytes, "max_pixels": formatter.image_max_pixels,
              "aspect": formatter.image_aspect}
    media_urls = [site_url(asset_public_url(asset=asset, **limits)) for asset in version.media.all()]
    text = formatter.render(version)
    link_url = version.cta_url
    utm = job.campaign.utm_parameters(channel_slug=job.channel.slug) if job.campaign_id else {}
    if utm:
        text = text_with_utm(text, utm)
        link_url = with_utm(link_url, utm) if link_url else link_url
    return ChannelPost(
        idempotency_key=str(job.idempotency_key),
        text=text,
        title=version.title or content.title,
        body_markdown=text if formatter.markdown else "",
        link_url=link_url,
        tags=list(version.hashtags),
        media_urls=media_urls,
        canonical_url=public_url(content),
        extra={"description": content.summary[:250], "job_id": job.pk, "campaign_id": job.campaign_id,
               "channel": job.channel.slug},
    )
