"""Content analysis: local when no AI provider is ready (and labelled so), AI through the gateways chain
against a local OpenAI-compatible contract server, cached by text hash and prompt version."""

import json

import pytest

from crm.services.topics import contact_topics_set, topic_create
from crm.tests.factories import ContactFactory
from gateways import services as gateways
from gateways.capabilities import Capability
from gateways.testing import llm_contracts as contract
from publishing.analysis import ai, local
from publishing.models import AnalysisEngine, AnalysisStatus, CampaignContent, ContentAnalysis
from publishing.services import analysis
from publishing.tests.factories import CampaignFactory, ChannelVersionFactory, ContentFactory

pytestmark = pytest.mark.django_db

SCORES = {"quality_score": 78, "relevance_score": 64, "reasons": ["Clear benefit up front"],
          "suggestions": ["Name the audience's interest in data privacy"]}


@pytest.fixture
def content():
    content = ContentFactory(tags=["imports"])
    ChannelVersionFactory(content=content, kind="x", body="Faster imports are here. " * 20)
    return content


@pytest.fixture
def ai_provider(httpserver):
    return gateways.account_create(capability=Capability.TEXT_GENERATION, adapter="openai_chat", name="openai",
                                   base_url=httpserver.url_for("").rstrip("/"), timeout_seconds=2,
                                   credentials={"api_key": "sk-test-1234abcd"},
                                   settings={"model": "gpt-4o-mini", "input_price_per_million": "0.15",
                                             "output_price_per_million": "0.60"})


def _request_and_run(content, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        rows = analysis.content_analysis_request(content=content)
    if queued:
        analysis.content_analysis_run(content_id=content.pk)
    return rows, queued


def test_without_an_ai_provider_the_local_analysis_runs_for_the_content_and_each_version(
        content, django_capture_on_commit_callbacks):
    gateways.account_create(capability=Capability.TEXT_GENERATION, adapter="noop_text_generation",
                            name="Placeholder: no AI")  # a placeholder is not an AI provider

    rows, queued = _request_and_run(content, django_capture_on_commit_callbacks)

    assert len(queued) == 1 and [row.kind for row in rows] == ["", "x"]
    done = {row.kind: row for row in ContentAnalysis.objects.all()}
    assert {row.engine for row in done.values()} == {AnalysisEngine.LOCAL}
    assert AnalysisEngine.LOCAL.label == "Local analysis (not AI)"
    assert all(row.status == AnalysisStatus.DONE and row.quality_score is None for row in done.values())
    x = done["x"]
    assert x.prompt_version == local.RULES_VERSION
    assert x.measures["max_length"] == 280 and x.measures["length"] > 280
    assert any("over the channel's limit of 280" in reason for reason in x.reasons)
    assert {"flesch_reading_ease", "grade_level", "sentiment", "passive_sentences"} <= set(x.measures)
    assert x.measures["keywords_present"] == ["imports"]


def test_asking_again_for_unchanged_text_queues_nothing_and_a_changed_version_alone_is_analysed(
        content, django_capture_on_commit_callbacks):
    _request_and_run(content, django_capture_on_commit_callbacks)

    rows, queued = _request_and_run(content, django_capture_on_commit_callbacks)
    assert queued == [] and ContentAnalysis.objects.count() == 2

    content.versions.filter(kind="x").update(body="Imports are twice as fast.")
    rows, queued = _request_and_run(content, django_capture_on_commit_callbacks)
    assert len(queued) == 1 and ContentAnalysis.objects.count() == 3
    current = {target.kind: row for target, row in analysis.content_analyses_current(content)}
    assert current["x"].text.startswith("Imports are twice as fast.") and current["x"].status == AnalysisStatus.DONE


def test_running_twice_analyses_nothing_twice(content, django_capture_on_commit_callbacks):
    _request_and_run(content, django_capture_on_commit_callbacks)
    assert analysis.content_analysis_run(content_id=content.pk) == 0


def test_ai_scores_against_the_campaign_goal_and_audience_topics(content, ai_provider, httpserver,
                                                                django_capture_on_commit_callbacks):
    campaign = CampaignFactory(name="Spring launch", description="Win back churned customers",
                               audience={"contact_ids": [ContactFactory().pk]})
    contact_topics_set(contact=ContactFactory._meta.model.objects.get(pk=campaign.audience["contact_ids"][0]),
                       topics=[topic_create(name="Data privacy")], source="test")
    CampaignContent.objects.create(campaign=campaign, content=content)
    httpserver.expect_request("/chat/completions", method="POST").respond_with_json(
        contract.openai_completion(json.dumps(SCORES), prompt_tokens=900, completion_tokens=100))

    _request_and_run(content, django_capture_on_commit_callbacks)

    rows = list(ContentAnalysis.objects.order_by("kind"))
    assert [(r.engine, r.status, r.quality_score, r.relevance_score) for r in rows] == [
        (AnalysisEngine.AI, AnalysisStatus.DONE, 78, 64)] * 2
    assert rows[0].prompt_version == ai.PROMPT_VERSION and rows[0].provider == "openai"
    assert rows[0].suggestions == SCORES["suggestions"] and rows[0].input_tokens == 900
    assert rows[0].cost_estimate is not None
    sent = httpserver.log[0][0].get_json()
    prompt = sent["messages"][1]["content"]
    assert "Win back churned customers" in prompt and "Data privacy" in prompt
    assert sent["response_format"]["json_schema"]["schema"] == ai.REQUESTED_SCHEMA


def test_an_ai_score_out_of_range_is_an_error_shown_as_such_never_a_score(content, ai_provider, httpserver,
                                                                          django_capture_on_commit_callbacks):
    httpserver.expect_request("/chat/completions").respond_with_json(
        contract.openai_completion(json.dumps({**SCORES, "quality_score": 140})))

    _request_and_run(content, django_capture_on_commit_callbacks)

    row = ContentAnalysis.objects.get(kind="")
    assert row.status == AnalysisStatus.FAILED and row.quality_score is None and row.relevance_score is None
    assert "did not follow the schema" in row.error and "quality_score" in row.error


def test_every_ai_provider_failing_falls_back_to_local_and_asking_again_retries_the_ai(
        content, ai_provider, httpserver, django_capture_on_commit_callbacks):
    httpserver.expect_request("/chat/completions").respond_with_json(contract.OPENAI_SERVER_ERROR, status=500)
    _request_and_run(content, django_capture_on_commit_callbacks)
    row = ContentAnalysis.objects.get(kind="")
    assert (row.engine, row.status, row.prompt_version) == (AnalysisEngine.LOCAL, AnalysisStatus.DONE,
                                                            local.RULES_VERSION)
    assert row.quality_score is None and row.provider == "" and "500" in row.note

    httpserver.clear()
    httpserver.expect_request("/chat/completions").respond_with_json(contract.openai_completion(json.dumps(SCORES)))
    gateways_health_reset(ai_provider)
    _request_and_run(content, django_capture_on_commit_callbacks)
    current = dict((target.kind, row) for target, row in analysis.content_analyses_current(content))
    assert (current[""].engine, current[""].quality_score, current[""].note) == (AnalysisEngine.AI, 78, "")


def gateways_health_reset(account):
    """Two failures in a row are below the breaker's threshold; the account is still tried."""
    from gateways.models import ProviderHealth

    assert ProviderHealth.objects.get(pk=account.pk).breaker_state == "closed"


def test_an_unexpected_error_fails_that_text_only(content, monkeypatch, django_capture_on_commit_callbacks):
    real = local.analyse_locally

    def breaks_on_x(text, **kwargs):
        if "Faster imports are here" in text:
            raise ValueError("lexicon missing")
        return real(text, **kwargs)

    monkeypatch.setattr(local, "analyse_locally", breaks_on_x)
    _request_and_run(content, django_capture_on_commit_callbacks)
    outcome = dict(ContentAnalysis.objects.values_list("kind", "status"))
    assert outcome == {"": AnalysisStatus.DONE, "x": AnalysisStatus.FAILED}


def test_a_spent_ai_budget_falls_back_to_local_labelled_and_the_ai_analyses_once_it_is_back(
        content, httpserver, django_capture_on_commit_callbacks):
    """A budget of 1 request a day: the content itself gets the AI's scores, its X version the local
    analysis with the reason, never recorded as an AI result; the next day the AI analyses the version."""
    account = gateways.account_create(
        capability=Capability.TEXT_GENERATION, adapter="openai_chat", name="openai",
        base_url=httpserver.url_for("").rstrip("/"), timeout_seconds=2, credentials={"api_key": "sk-test-1234abcd"},
        settings={"model": "gpt-4o-mini", "daily_request_budget": "1"})
    httpserver.expect_request("/chat/completions").respond_with_json(contract.openai_completion(json.dumps(SCORES)))

    _request_and_run(content, django_capture_on_commit_callbacks)

    assert len(httpserver.log) == 1
    rows = {row.kind: row for row in ContentAnalysis.objects.all()}
    assert (rows[""].engine, rows[""].quality_score, rows[""].prompt_version) == (AnalysisEngine.AI, 78,
                                                                                  ai.PROMPT_VERSION)
    fallback = rows["x"]
    assert (fallback.engine, fallback.status, fallback.prompt_version) == (
        AnalysisEngine.LOCAL, AnalysisStatus.DONE, local.RULES_VERSION)
    assert fallback.note == "AI budget for today spent."
    assert fallback.quality_score is None and fallback.relevance_score is None and fallback.provider == ""
    assert fallback.get_engine_display() == "Local analysis (not AI)"
    assert "flesch_reading_ease" in fallback.measures

    from gateways.models import TextGenerationUsage

    TextGenerationUsage.objects.filter(account=account).delete()  # a new day: the budget is back
    _, queued = _request_and_run(content, django_capture_on_commit_callbacks)

    assert len(queued) == 1 and len(httpserver.log) == 2
    current = {target.kind: row for target, row in analysis.content_analyses_current(content)}
    assert (current["x"].engine, current["x"].quality_score) == (AnalysisEngine.AI, 78)
    assert ContentAnalysis.objects.filter(kind="x", engine=AnalysisEngine.LOCAL).count() == 1
