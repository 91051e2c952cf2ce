import pytest

from publishing.formatters import formatter_for, kind_choices, registered
from publishing.formatters.bluesky import grapheme_count
from publishing.tests.factories import ContentFactory

pytestmark = pytest.mark.django_db

LIMITS = {"x": 280, "linkedin": 3000, "facebook": 63206, "instagram": 2200, "threads": 500, "tiktok": 2000,
          "youtube": 5000, "bluesky": 300, "mastodon": 500, "pinterest": 500, "discord": 2000, "telegram": 4096,
          "devto": 100_000}


def test_every_documented_channel_has_a_formatter_with_its_limit():
    assert {kind: registered()[kind].max_length for kind in LIMITS} == LIMITS
    assert {"slack", "webhook", "website"} <= set(registered())
    assert ("x", "X (Twitter)") in kind_choices()


def test_x_counts_a_link_as_23_and_wide_characters_as_two():
    x = formatter_for("x")
    assert x.length("see https://example.com/" + "a" * 100) == 4 + 23
    assert x.length("日本") == 4
    assert x.length("café") == 4


def test_bluesky_counts_graphemes():
    assert grapheme_count("e\u0301") == 1
    assert grapheme_count("👍🏽") == 1
    assert grapheme_count("👨\u200d👩\u200d👧") == 1
    assert grapheme_count("abc") == 3


@pytest.mark.parametrize("kind", sorted(LIMITS))
def test_a_long_article_is_shortened_to_fit_every_channel(kind):
    content = ContentFactory(summary="", body="word " * 30_000, tags=["one", "two"])
    formatter = formatter_for(kind)
    draft = formatter.generate(content)
    assert formatter.length(formatter.render(draft)) <= formatter.max_length
    assert draft.body


def test_x_version_keeps_the_link_and_fits_280():
    content = ContentFactory(summary="A" * 400, link_url="https://example.com/" + "p" * 150, tags=["Growth"])
    x = formatter_for("x")
    draft = x.generate(content)
    text = x.render(draft)
    assert "https://example.com/" + "p" * 150 in text
    assert x.length(text) <= 280
    assert "#Growth" in text


def test_hashtag_styles_per_channel():
    content = ContentFactory(tags=["marketing ops", "Django", "a", "b", "c"])
    assert formatter_for("linkedin").generate(content).hashtags == ["MarketingOps", "Django", "A", "B", "C"]
    assert formatter_for("devto").generate(content).hashtags == ["marketingops", "django", "a", "b"]
    assert formatter_for("discord").generate(content).hashtags == []
    assert formatter_for("threads").generate(content).hashtags == ["MarketingOps"]


def test_validation_names_each_problem_per_channel():
    content = ContentFactory()
    instagram = formatter_for("instagram")
    version = instagram.generate(content)
    version.hashtags = [f"tag{n}" for n in range(31)]
    errors = instagram.validate(version, media_count=0)
    assert "Instagram: 31 hashtags, at most 30 allowed." in errors
    assert "Instagram: a post needs at least one image or video." in errors
    x = formatter_for("x")
    long = x.generate(content)
    long.body = "b" * 300
    assert x.validate(long) == [f"X (Twitter): {x.length(x.render(long))} characters, the limit is 280."]
    devto = formatter_for("devto")
    untitled = devto.generate(content)
    untitled.title = ""
    assert devto.validate(untitled) == ["Dev.to: a title is required."]


def test_devto_keeps_markdown_and_website_renders_the_article():
    content = ContentFactory(body="# Title\n\n**bold**")
    assert formatter_for("devto").generate(content).body == "# Title\n\n**bold**"
    assert "**bold**" in formatter_for("website").render(formatter_for("website").generate(content))
    assert "**" not in formatter_for("linkedin").generate(content).body


ARTICLE = ("Built with @acme_labs: read [the docs](https://example.com/docs) before you start. "
           + "Our imports are faster now. " * 200)


def _generated(kind):
    content = ContentFactory(title="Faster imports", summary="", body=ARTICLE, link_url="https://example.com/launch",
                             tags=["marketing ops", "Django", "imports", "speed", "data", "csv", "crm"])
    formatter = formatter_for(kind)
    draft = formatter.generate(content)
    return formatter, draft, formatter.render(draft)


@pytest.mark.parametrize("kind", sorted(registered()))
def test_each_channel_kind_follows_its_own_rules(kind):
    formatter, draft, text = _generated(kind)
    # Length: the whole post as the channel counts it fits.
    if formatter.max_length:
        assert formatter.length(text) <= formatter.max_length
    # Hashtags: the channel's style and limit.
    if formatter.hashtag_style == "none":
        assert draft.hashtags == [] and "#" not in text
    elif formatter.hashtag_style == "tags":
        assert all(tag == tag.lower() and " " not in tag for tag in draft.hashtags)
    else:
        assert "#MarketingOps" in text
    if formatter.max_hashtags is not None:
        assert 0 < len(draft.hashtags) <= formatter.max_hashtags
    # Links: Markdown kept, shown with their address, or words only where addresses are not clickable.
    if formatter.markdown:
        assert "[the docs](https://example.com/docs)" in draft.body
    elif formatter.clickable_links:
        assert "the docs (https://example.com/docs)" in text and "https://example.com/launch" in text
    else:
        assert "the docs before" in text and "https://" not in text and "Link in bio" in text
    # Mentions: kept where a typed @name links someone, a plain name elsewhere.
    if formatter.typed_mentions or formatter.markdown:
        assert "@acme_labs" in text
    else:
        assert "@acme_labs" not in text and "acme_labs" in text
    assert formatter.validate(draft, media_count=1) == []


def test_versions_differ_where_the_channels_rules_differ():
    texts = {kind: _generated(kind)[2] for kind in ("x", "linkedin", "instagram", "slack", "mastodon", "devto")}
    assert len(set(texts.values())) == len(texts)
    assert formatter_for("x").length(texts["x"]) <= 280 < formatter_for("linkedin").length(texts["linkedin"])
    assert texts["x"].count("#") == 3 and texts["linkedin"].count("#") == 5
    assert "@acme_labs" in texts["x"] and "@acme_labs" not in texts["linkedin"]


def test_mastodon_counts_a_link_as_23():
    assert formatter_for("mastodon").length("see https://example.com/" + "a" * 100) == 4 + 23


def test_mentions_past_the_channels_limit_become_plain_names():
    content = ContentFactory(summary=" ".join(f"@friend{n}" for n in range(25)), tags=[])
    body = formatter_for("instagram").generate(content).body
    assert body.count("@") == 20 and "friend24" in body


def test_an_email_address_is_not_taken_for_a_mention():
    content = ContentFactory(summary="Write to team@example.com", tags=[])
    assert "team@example.com" in formatter_for("linkedin").generate(content).body


def test_a_typed_mention_on_a_channel_that_links_nobody_is_named_as_a_problem():
    linkedin = formatter_for("linkedin")
    draft = linkedin.generate(ContentFactory())
    draft.mentions = ["acme"]
    assert "LinkedIn: a typed @mention links nobody here; name them in the text instead." in linkedin.validate(draft)
