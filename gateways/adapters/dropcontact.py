"""Dropcontact (PROVIDERS.md §2): submit a batch of up to 250 records, then poll until it is ready.

The same batch call serves lead enrichment and email verification; each capability has its own
adapter key because an account is configured per capability. Records carry our reference in
`custom_fields`, which Dropcontact returns unchanged, so results are matched by it, not by order.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import (
    EmailVerdict,
    EmailVerificationAdapter,
    EnrichedPerson,
    LeadEnrichmentAdapter,
    PersonQuery,
    register,
)
from gateways.errors import ProviderRejected, ProviderUnavailable, RateLimited

REF_FIELD = "aicmo_ref"
POLL_INTERVAL_SECONDS = 30.0  # the documented pace
POLL_DEADLINE_SECONDS = 300.0  # well inside a worker task's time limit (Q_TIMEOUT, 600 s by default)

# Qualification words, English, French and older spellings, after lower-casing and "-" → "_".
VALID_LOCAL = {"nominative", "nominatif"}
RISKY_LOCAL = {"catch_all", "generic", "générique", "generique", "non_validated", "non_validé", "non_valide",
               "random"}
INVALID_LOCAL = {"invalid", "invalide", "do_not_contact"}
INVALID_DOMAIN = {"invalid domain", "invalid_domain", "domaine invalide", "disposable", "jetable"}


def qualification_status(qualification: str) -> str:
    """valid, risky, invalid or unknown, from `<localpart>@<domain>` read leniently."""
    local, _, domain = (qualification or "").strip().lower().replace("-", "_").partition("@")
    if local in INVALID_LOCAL or domain.replace("_", " ") in INVALID_DOMAIN or domain in INVALID_DOMAIN:
        return "invalid"
    if local in RISKY_LOCAL:
        return "risky"
    if local in VALID_LOCAL:
        return "valid"
    return "unknown"


def input_record(query: PersonQuery) -> dict[str, Any] | None:
    """A submit record, or None when Dropcontact has nothing to search with."""
    record = {"first_name": query.first_name, "last_name": query.last_name, "company": query.company,
              "website": query.domain, "email": query.email, "linkedin": query.linkedin_url}
    record = {key: value for key, value in record.items() if value}
    if not ({"company", "website", "email", "linkedin"} & record.keys()):
        return None
    return {**record, "custom_fields": {REF_FIELD: query.ref}}


def best_email(result: dict[str, Any], wanted: str = "") -> dict[str, Any]:
    emails = [e for e in result.get("email") or [] if isinstance(e, dict) and e.get("email")]
    for entry in emails:
        if wanted and entry["email"].lower() == wanted.lower():
            return entry
    return {} if wanted else (emails[0] if emails else {})


class DropcontactClient(HttpAdapterMixin):
    max_batch: ClassVar[int] = 250
    secret_parameters = ("api_key",)
    parameters = ("poll_interval_seconds", "poll_deadline_seconds")
    default_base_url = "https://api.dropcontact.com"
    default_rate_limit = (60, 1.0)
    credentials_advice = ("Dropcontact answers {status}: the API key is wrong or the credits cannot cover the "
                          "batch; check both in Provider accounts and on dropcontact.com.")

    def http_headers(self) -> dict[str, str]:
        return {"X-Access-Token": self.credential("api_key"), "Content-Type": "application/json"}

    def _number(self, name: str, default: float) -> float:
        value = self.settings.get(name)
        try:
            return default if value in (None, "") else max(0.0, float(value))
        except (TypeError, ValueError):
            return default

    def run_batch(self, records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Submit records and wait for them; the results by our reference."""
        if not records:
            return {}
        if len(records) > self.max_batch:
            raise ProviderRejected(f"Dropcontact takes at most {self.max_batch} records per request",
                                   provider=self.name)
        answer = self.http.request_json("POST", self.url("/v1/enrich/all"), idempotent=True,
                                        json={"data": records, "siren": False, "language": "en"})
        if answer.get("error") or not answer.get("request_id"):
            raise ProviderRejected(f"Dropcontact refused the batch: {answer.get('reason') or answer}",
                                   provider=self.name)
        results = self._wait_for(answer["request_id"])
        return {str((r.get("custom_fields") or {}).get(REF_FIELD)): r for r in results}

    def _wait_for(self, request_id: str) -> list[dict[str, Any]]:
        interval = self._number("poll_interval_seconds", POLL_INTERVAL_SECONDS)
        deadline = time.monotonic() + self._number("poll_deadline_seconds", POLL_DEADLINE_SECONDS)
        url = self.url(f"/v1/enrich/all/{request_id}")
        wait = interval
        while True:
            time.sleep(max(0.0, min(wait, deadline - time.monotonic())))
            wait = interval
            if time.monotonic() >= deadline:
                # Past the deadline, take whatever is done rather than nothing.
                answer = self.http.request_json("GET", url, params={"forceResults": "true"})
                if answer.get("success"):
                    return answer.get("data") or []
                raise ProviderUnavailable(
                    f"Dropcontact: request {request_id} not ready before the deadline ({answer.get('reason', '')})",
                    provider=self.name, advice="Dropcontact is slow; the batch will be tried again.")
            try:
                answer = self.http.request_json("GET", url)
            except RateLimited as exc:
                # The batch is paid for already: slow down rather than give it up.
                wait = exc.retry_after if exc.retry_after is not None else interval
                continue
            if answer.get("success"):
                return answer.get("data") or []

    def probe(self):
        def credits() -> str:
            answer = self.http.request_json("GET", self.url("/v1/account/credits"))
            return f"{answer.get('credits', '?')} credits left"

        return self.timed_probe(credits)


@register
class DropcontactEnrichmentAdapter(DropcontactClient, LeadEnrichmentAdapter):
    key = "dropcontact"
    label = "Dropcontact"

    def enrich(self, people: list[PersonQuery]) -> list[EnrichedPerson | None]:
        records = [r for r in (input_record(query) for query in people) if r]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(records), self.max_batch):
            found.update(self.run_batch(records[start:start + self.max_batch]))
        return [self._person(query, found.get(query.ref)) for query in people]

    def _person(self, query: PersonQuery, result: dict[str, Any] | None) -> EnrichedPerson | None:
        if not result:
            return None
        email = best_email(result)
        fields = {
            "first_name": result.get("first_name"), "last_name": result.get("last_name"),
            "job_title": result.get("job"), "linkedin_url": result.get("linkedin"),
            "phone": result.get("phone") or result.get("mobile_phone"), "email": email.get("email"),
            "company_name": result.get("company"), "company_domain": result.get("website"),
            "country": result.get("country"),
        }
        fields = {key: str(value) for key, value in fields.items() if value}
        if not fields:
            return None
        status = qualification_status(email.get("qualification", "")) if email else ""
        return EnrichedPerson(ref=query.ref, provider=self.name, fields=fields, raw=result,
                              email_status="" if status == "unknown" else status)


@register
class DropcontactVerificationAdapter(DropcontactClient, EmailVerificationAdapter):
    key = "dropcontact_verification"
    label = "Dropcontact"

    def verify(self, emails: list[str]) -> list[EmailVerdict]:
        records = [{"email": email, "custom_fields": {REF_FIELD: str(n)}} for n, email in enumerate(emails)]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(records), self.max_batch):
            found.update(self.run_batch(records[start:start + self.max_batch]))
        return [self._verdict(email, found.get(str(n), {})) for n, email in enumerate(emails)]

    def _verdict(self, email: str, result: dict[str, Any]) -> EmailVerdict:
        entry = best_email(result, email)
        if not entry:
            return EmailVerdict(email=email, status="unknown", provider=self.name,
                                detail="Dropcontact returned no qualification for this address", raw=result)
        qualification = str(entry.get("qualification") or "")
        return EmailVerdict(email=email, status=qualification_status(qualification), provider=self.name,
                            detail=qualification, raw=result)
