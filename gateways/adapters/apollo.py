"""Apollo.io people enrichment (PROVIDERS.md §1): people/match for one person, bulk_match for up to 10."""

from __future__ import annotations

from typing import Any

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import EnrichedPerson, LeadEnrichmentAdapter, PersonQuery, register

# Apollo's email_status words; anything else it says is a guess, hence risky.
EMAIL_STATUS = {"verified": "valid", "invalid": "invalid", "bounced": "invalid", "unavailable": ""}


def match_details(query: PersonQuery) -> dict[str, str]:
    details = {
        "first_name": query.first_name, "last_name": query.last_name, "organization_name": query.company,
        "domain": query.domain, "email": query.email, "linkedin_url": query.linkedin_url,
    }
    return {key: value for key, value in details.items() if value}


def first_phone(person: dict[str, Any]) -> str:
    """Phones arrive under person.contact or straight on person (observed both): read both."""
    contact = person.get("contact") or {}
    if contact.get("sanitized_phone"):
        return contact["sanitized_phone"]
    for numbers in (contact.get("phone_numbers"), person.get("phone_numbers")):
        for number in numbers or []:
            value = number.get("sanitized_number") or number.get("raw_number")
            if value:
                return value
    return ""


def enriched_person(ref: str, provider: str, person: dict[str, Any]) -> EnrichedPerson:
    organization = person.get("organization") or {}
    fields = {
        "first_name": person.get("first_name"), "last_name": person.get("last_name"),
        "job_title": person.get("title"), "linkedin_url": person.get("linkedin_url"),
        "email": person.get("email"), "city": person.get("city"), "country": person.get("country"),
        "company_name": organization.get("name"), "company_domain": organization.get("primary_domain"),
        "phone": first_phone(person),
    }
    status = str(person.get("email_status") or "").lower()
    return EnrichedPerson(
        ref=ref, provider=provider, raw=person,
        fields={key: str(value) for key, value in fields.items() if value},
        email_status=EMAIL_STATUS.get(status, "risky" if status else ""),
    )


def match_allowance(stats: dict[str, Any]) -> str:
    """The people-match limits Apollo reports for this key (they differ by plan), in words."""
    for endpoint, windows in stats.items():
        if "match" in endpoint and isinstance(windows, dict):
            parts = [f"{w.get('left_over', '?')} of {w.get('limit', '?')} left this {window}"
                     for window in ("minute", "hour", "day") if isinstance(w := windows.get(window), dict)]
            if parts:
                return "people match: " + ", ".join(parts)
    return "usage stats read"


@register
class ApolloEnrichmentAdapter(HttpAdapterMixin, LeadEnrichmentAdapter):
    key = "apollo"
    label = "Apollo"
    max_batch = 10
    secret_parameters = ("api_key",)
    default_base_url = "https://api.apollo.io/api/v1"
    default_rate_limit = (50, 60.0)  # the free plan's per-minute limit; paid plans raise it
    credentials_advice = "Apollo answers {status}: the API key is wrong or revoked; update it in Provider accounts."

    def http_headers(self) -> dict[str, str]:
        return {"x-api-key": self.credential("api_key"), "Content-Type": "application/json"}

    def enrich(self, people: list[PersonQuery]) -> list[EnrichedPerson | None]:
        results: list[EnrichedPerson | None] = []
        for start in range(0, len(people), self.max_batch):
            results.extend(self._enrich_batch(people[start:start + self.max_batch]))
        return results

    def _enrich_batch(self, people: list[PersonQuery]) -> list[EnrichedPerson | None]:
        reveal = {"reveal_personal_emails": False, "reveal_phone_number": False}
        if len(people) == 1:
            answer = self.http.request_json("POST", self.url("/people/match"), idempotent=True,
                                            json={**match_details(people[0]), **reveal})
            matches = [answer.get("person")]
        else:
            answer = self.http.request_json("POST", self.url("/people/bulk_match"), idempotent=True,
                                            json={"details": [match_details(p) for p in people], **reveal})
            matches = list(answer.get("matches") or [])
        matches += [None] * (len(people) - len(matches))
        return [enriched_person(query.ref, self.name, person) if person else None
                for query, person in zip(people, matches, strict=False)]

    def probe(self):
        def usage() -> str:
            stats = self.http.request_json("POST", self.url("/usage_stats/api_usage_stats"), idempotent=True,
                                           json={})
            return f"API key accepted; {match_allowance(stats)}"

        return self.timed_probe(usage)
