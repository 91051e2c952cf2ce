"""Demo content in every workflow state and a running campaign with jobs (idempotent)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from publishing import services
from publishing.choices import ContentStatus
from publishing.models import Campaign, Channel, Content

DEMO_PIECES = [
    ("Spring product update", "product_update", "approve"),
    ("How Acme doubled its pipeline", "case_study", "approve"),
    ("Ten ideas for your next webinar", "blog_post", "submit"),
    ("Pricing page refresh", "landing_page", "request_changes"),
    ("Notes on our roadmap", "blog_post", None),
]
BODY = ("We shipped **faster imports**, a content calendar and one-click publishing to every channel.\n\n"
        "- Write once, publish everywhere\n- Approve before anything goes out\n\n"
        "[Read the full story](https://example.com/blog)")


def _users():
    User = get_user_model()
    return User.objects.filter(username="marketer").first(), User.objects.filter(username="approver").first()


def seed() -> str:
    marketer, approver = _users()
    if marketer is None or approver is None:
        return "skipped (demo users missing)"
    website, _ = Channel.objects.get_or_create(slug="blog", defaults={"name": "Company blog", "kind": "website"})
    linkedin, _ = Channel.objects.get_or_create(slug="linkedin-page",
                                                defaults={"name": "LinkedIn page (manual)", "kind": "linkedin"})
    made = 0
    for title, kind, step in DEMO_PIECES:
        if Content.objects.filter(title=title).exists():
            continue
        content = services.content_create(by=marketer, title=title, kind=kind, body=BODY,
                                          summary="What changed this month, in two minutes.",
                                          tags=["marketing ops", "product"], link_url="https://example.com/blog")
        services.versions_generate(content=content, kinds=["website", "linkedin", "x", "devto"])
        if step:
            services.content_submit(content=content, by=marketer)
        if step == "approve":
            services.content_approve(content=content, by=approver, note="Looks good")
        elif step == "request_changes":
            services.content_request_changes(content=content, by=approver, note="Add a customer quote")
        made += 1
    if not Campaign.objects.filter(name="Spring launch").exists():
        approved = list(Content.objects.filter(status=ContentStatus.APPROVED, title__in=[p[0] for p in DEMO_PIECES]))
        if approved:
            soon = timezone.now() + timedelta(minutes=2)
            campaign = services.campaign_create(
                by=marketer, name="Spring launch", description="The spring release, on the blog and LinkedIn.",
                starts_at=soon, contents=[(c, soon + timedelta(days=i)) for i, c in enumerate(approved)],
                channels=[website, linkedin], budget=500,
            )
            services.campaign_activate(campaign=campaign, by=marketer)
    return f"{made} content created, {Campaign.objects.count()} campaigns"
