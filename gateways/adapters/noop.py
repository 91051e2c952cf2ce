"""The fallback of last resort, one per capability ("noop_<capability>"): it does nothing and says so.
Every call raises ProviderSkipped, so nothing can mistake it for an email sent, a post published or a
person enriched; the chain reports the capability as skipped."""

from __future__ import annotations

from gateways.capabilities import (
    ChannelPostingAdapter,
    CrmSyncAdapter,
    EmailSendingAdapter,
    EmailVerificationAdapter,
    InboxReadingAdapter,
    LeadEnrichmentAdapter,
    MetricsFetchingAdapter,
    ProviderKind,
    TextGenerationAdapter,
    register,
)
from gateways.errors import ProviderSkipped

SKIPPED = "skipped: no provider configured"


class NoopAdapter:
    is_fallback = True
    kind = ProviderKind.PLACEHOLDER
    probeable = False

    def _skip(self, *args, **kwargs):
        raise ProviderSkipped(SKIPPED, provider=self.name,
                      advice=f"Add a provider account for {self.capability.replace('_', ' ')} in Provider accounts.")

    probe = _skip


def _noop(base, method_names: tuple[str, ...]):
    capability = base.capability
    name = "Noop" + "".join(part.title() for part in capability.split("_")) + "Adapter"
    attrs = {"key": f"noop_{capability}", "label": f"No provider ({capability.replace('_', ' ')})",
             "__module__": __name__, **{method: NoopAdapter._skip for method in method_names}}
    return register(type(name, (NoopAdapter, base), attrs))


NoopLeadEnrichmentAdapter = _noop(LeadEnrichmentAdapter, ("enrich",))
NoopEmailVerificationAdapter = _noop(EmailVerificationAdapter, ("verify",))
NoopEmailSendingAdapter = _noop(EmailSendingAdapter, ("open",))
NoopInboxReadingAdapter = _noop(InboxReadingAdapter, ("fetch_since",))
NoopCrmSyncAdapter = _noop(CrmSyncAdapter, ("upsert",))
NoopChannelPostingAdapter = _noop(ChannelPostingAdapter, ("publish", "lookup"))
NoopMetricsFetchingAdapter = _noop(MetricsFetchingAdapter, ("fetch",))
NoopTextGenerationAdapter = _noop(TextGenerationAdapter, ("generate",))
