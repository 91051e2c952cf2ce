"""Demo contacts for `make run`: about 200 people at a few companies, tags, topics of interest, 3 segments,
scores and a few unsubscribes."""

import random

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When

from crm import services
from crm.choices import LifecycleStatus
from crm.models import Company, Contact, Segment, Topic

COMPANIES = (("acme.io", "Acme", "Manufacturing"), ("globex.com", "Globex", "Energy"),
             ("initech.dev", "Initech", "Software"), ("umbrella.health", "Umbrella", "Health"),
             ("hooli.xyz", "Hooli", "Internet"), ("stark.industries", "Stark", "Defence"))
FIRST = ("Ann", "Bob", "Chloé", "Dev", "Emil", "Fatou", "Gus", "Hana", "Ivo", "Jade", "Kofi", "Lena", "Mateo", "Nia")
LAST = ("Lee", "Martin", "Okafor", "Novak", "Silva", "Dubois", "Kowalski", "Tanaka", "Haddad", "Larsen")
TITLES = ("Head of Marketing", "CMO", "Growth Lead", "Content Manager", "Founder", "Sales Director", "")
TAGS = ("newsletter", "webinar-2026", "vip", "partner", "trade-fair")
SEGMENTS = {
    "Engaged VIPs": {"op": "and", "rules": [
        {"field": "tags", "operator": "any", "value": ["vip"]},
        {"field": "engagement_score", "operator": "gte", "value": 50}]},
    "Opened in the last 30 days": {"op": "and", "rules": [
        {"field": "event", "operator": "within_days", "value": {"kind": "opened", "days": 30}}]},
    "New at Acme or Globex": {"op": "and", "rules": [
        {"field": "lifecycle_status", "operator": "in", "value": ["new", "enriched"]},
        {"op": "or", "rules": [{"field": "domain", "operator": "in", "value": ["acme.io"]},
                               {"field": "domain", "operator": "in", "value": ["globex.com"]}]}]},
}
# slug, name, description, public (offered in the email preference centre)
TOPICS = (
    ("ai", "AI & automation", "Models, agents and the tools that put them to work.", True),
    ("product-news", "Product news", "What shipped, what is coming next.", True),
    ("events", "Events & webinars", "Invitations and recordings.", True),
    ("customer-stories", "Customer stories", "How teams like yours use the product.", True),
    ("partner-programme", "Partner programme", "For resellers and integrators; set by the team.", False),
)
PEOPLE = 200


def seed_topics() -> dict[str, Topic]:
    """The demo topics by slug, made once (the email demo's newsletter chooses blocks by them)."""
    existing = {topic.slug: topic for topic in Topic.objects.filter(slug__in=[t[0] for t in TOPICS])}
    for slug, name, description, public in TOPICS:
        if slug not in existing:
            existing[slug] = services.topic_create(name=name, slug=slug, description=description, public=public)
    return existing


@transaction.atomic
def seed() -> str:
    picks = random.Random(4)  # the same demo every time
    for domain, name, industry in COMPANIES:
        if not Company.objects.filter(domain=domain).exists():
            services.company_create(domain=domain, name=name, industry=industry, website=f"https://{domain}")
    existing = set(Contact.objects.filter(source="demo").values_list("email", flat=True))
    created = []
    for n in range(PEOPLE):
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
        domain = COMPANIES[n % len(COMPANIES)][0]
        email = f"{first.lower().replace('é', 'e')}.{last.lower()}{n}@{domain}"
        if email in existing:
            continue
        contact = services.contact_create(
            email=email, first_name=first, last_name=last, job_title=picks.choice(TITLES), source="demo",
            country=picks.choice(("France", "Germany", "United States", "Japan")), field_source="import",
            custom_fields={"plan": picks.choice(("free", "pro", "team"))}, tags=picks.sample(TAGS, picks.randint(0, 2)),
        )
        created.append(contact)
    _history(created, picks)
    _interests(created, seed_topics())
    for name, rules in SEGMENTS.items():
        if not Segment.objects.filter(name=name).exists():
            services.segment_create(name=name, rules=rules, description="Demo segment")
    return (f"{len(created)} demo contacts added ({Contact.objects.filter(source='demo').count()} in all), "
            f"{Company.objects.count()} companies, {Segment.objects.count()} segments, "
            f"{Topic.objects.count()} topics")


def _interests(contacts: list[Contact], topics: dict[str, Topic]) -> None:
    """Most people follow one or two public topics; a few partners carry the team's private one."""
    picks = random.Random(7)  # its own sequence, so the rest of the demo stays as it was
    public = [topic for topic in topics.values() if topic.public]
    for n, contact in enumerate(contacts):
        chosen = picks.sample(public, picks.randint(0, 2))
        if n % 20 == 0:
            chosen.append(topics["partner-programme"])
        if chosen:
            services.contact_topics_set(contact=contact, topics=chosen, source="demo")


def _history(contacts: list[Contact], picks: random.Random) -> None:
    """Scores and a few live signals. Email history (sends, opens, clicks and the conversions they led
    to) belongs to a campaign and its deliveries, so publishing's demo makes it with them: crm knows no
    campaign, and an event naming a campaign that does not exist would be counted by the next real
    campaign to get that id."""
    scored = {c.pk: picks.randint(0, 100) for c in contacts}
    if scored:
        score = Case(*[When(pk=pk, then=Value(n)) for pk, n in scored.items()], output_field=IntegerField())
        # The shape analytics hands scores over in (contact_id, score, tier), so one service writes both.
        services.contact_scores_apply(scores=Contact.objects.filter(pk__in=scored).annotate(
            contact_id=F("pk"), score=score,
            tier=Case(When(score__gte=70, then=Value("high")), When(score__gte=40, then=Value("medium")),
                      When(score__gt=0, then=Value("low")), default=Value("inactive")),
        ))
    for contact in contacts[5::40]:
        services.contact_unsubscribe(contact=contact, source="demo unsubscribe link")
    for contact in contacts[11::50]:
        services.contact_transition_if_allowed(contact=contact, to=LifecycleStatus.ENRICHED, by_system="demo",
                                               reason="Filled in by hand")
