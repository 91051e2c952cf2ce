"""A published GitHub release becomes a "product update" draft, written from its release notes, for a
marketer to edit and send through review like any other content.

The CRM applies each GitHub delivery once and calls this handler inside that transaction, so a release
redelivered by GitHub makes no second draft.
"""

import logging

from django.contrib.auth import get_user_model

from publishing import conf
from publishing.choices import ContentKind
from publishing.services.content import content_create

logger = logging.getLogger(__name__)


def release_draft(*, delivery_id: str, payload: dict) -> None:
    release = payload.get("release") or {}
    # "published" comes once per release (pre-releases too); "released" and "created" would repeat it.
    if payload.get("action") != "published" or not release:
        return
    username = conf.release_draft_author()
    author = get_user_model().objects.filter(username=username, is_active=True).first() if username else None
    if author is None:
        logger.warning("GitHub release %s made no draft: GITHUB_RELEASE_DRAFT_AUTHOR names no active user",
                       release.get("tag_name", "?"))
        return
    repository = (payload.get("repository") or {}).get("name") or ""
    version = str(release.get("name") or release.get("tag_name") or "").strip()
    title = f"{repository} {version}".strip()[:300] or "New release"
    content_create(by=author, kind=ContentKind.PRODUCT_UPDATE, title=title,
                   body=str(release.get("body") or ""), link_url=str(release.get("html_url") or ""),
                   tags=["release"])
