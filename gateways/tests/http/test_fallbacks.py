"""Manual publishing and the no-op fallbacks never claim that anything was sent or published."""

import pytest

from gateways.adapters.manual import AWAITING_MANUAL, manual_draft
from gateways.adapters.noop import SKIPPED
from gateways.capabilities import (
    Capability,
    ChannelPost,
    OutgoingEmail,
    PersonQuery,
    SyncRecord,
    adapter_class,
    adapters_for,
)
from gateways.errors import ProviderSkipped, ProviderUnavailable


def build(key, **kwargs):
    return adapter_class(key)(name=key, **kwargs)


def launch(text="We launched our new planner today.", **kwargs):
    return ChannelPost(idempotency_key="job-1", text=text, link_url="https://example.com/launch",
                       tags=["launch", "Product Hunt", "launch"], **kwargs)


@pytest.mark.parametrize("key, channel", [("manual_linkedin", "linkedin"), ("manual_instagram", "instagram"),
                                          ("manual_facebook", "facebook"), ("manual_tiktok", "tiktok"),
                                          ("manual_youtube", "youtube"), ("manual", "")])
def test_manual_publishing_prepares_a_draft_and_waits_for_a_person(key, channel):
    adapter = build(key)

    result = adapter.publish(launch())

    assert adapter.is_fallback and adapter.channel == channel
    assert result.status == AWAITING_MANUAL
    assert result.external_id == "" and result.url == ""
    assert result.draft == ("We launched our new planner today.\n\nhttps://example.com/launch\n\n"
                            "#launch #ProductHunt")


def test_manual_draft_does_not_repeat_a_link_already_in_the_text():
    draft, shortened = manual_draft(launch("See https://example.com/launch"), channel="linkedin", limit=3000)
    assert draft == "See https://example.com/launch\n\n#launch #ProductHunt"
    assert not shortened


def test_manual_draft_does_not_repeat_hashtags_the_formatter_wrote():
    draft, _ = manual_draft(launch("Big day! #Launch"), channel="linkedin", limit=3000)
    assert draft == "Big day! #Launch\n\nhttps://example.com/launch\n\n#ProductHunt"


def test_manual_draft_shortens_the_text_but_keeps_link_and_hashtags_within_the_limit():
    post = launch("word " * 700)
    draft, shortened = manual_draft(post, channel="tiktok", limit=2000)
    assert shortened
    assert len(draft) <= 2000
    assert draft.endswith("…\n\nhttps://example.com/launch\n\n#launch #ProductHunt")


def test_instagram_drafts_keep_at_most_30_hashtags():
    post = ChannelPost(idempotency_key="j", text="Hi", tags=[f"tag{n}" for n in range(40)])
    draft, _ = manual_draft(post, channel="instagram", limit=2200)
    assert draft.count("#") == 30


def test_manual_probe_calls_nobody():
    result = build("manual_linkedin").probe()
    assert result.ok and result.detail == "nothing to call: a person publishes the draft"


@pytest.mark.parametrize("capability, call", [
    (Capability.LEAD_ENRICHMENT, lambda a: a.enrich([PersonQuery(ref="1", email="a@b.test")])),
    (Capability.EMAIL_VERIFICATION, lambda a: a.verify(["a@b.test"])),
    (Capability.EMAIL_SENDING, lambda a: a.open().send(OutgoingEmail(to="a@b.test", subject="s", text="t"))),
    (Capability.INBOX_READING, lambda a: a.fetch_since(0)),
    (Capability.CRM_SYNC, lambda a: a.upsert([SyncRecord(key="a@b.test", fields={})])),
    (Capability.CHANNEL_POSTING, lambda a: a.publish(ChannelPost(idempotency_key="j", text="t"))),
    (Capability.METRICS_FETCHING, lambda a: a.fetch(["1"])),
])
def test_noop_fallback_skips_every_capability(capability, call):
    adapter = build(f"noop_{capability}")
    assert adapter.is_fallback
    assert adapter_class(f"noop_{capability}") in adapters_for(capability)

    with pytest.raises(ProviderSkipped) as caught:
        call(adapter)

    assert not isinstance(caught.value, ProviderUnavailable)  # nothing is down: nothing was tried
    assert caught.value.message == SKIPPED == "skipped: no provider configured"
    assert caught.value.provider == f"noop_{capability}"
    assert "Add a provider account" in caught.value.advice
