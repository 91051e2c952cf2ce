"""Personalised newsletters by topic: blocks chosen by a contact's topics, gathered per batch, sent
through a real SMTP server, and the preference centre reached from the unsubscribe page."""

import pytest

from crm import services as crm_services
from crm.models import Contact, EngagementEvent
from crm.tests.factories import ContactFactory
from publishing.email.recipients import recipients_for
from publishing.email.rendering import DynamicBlockRule, Recipient, render_email
from publishing.email.sender import worker_run
from publishing.email.services import email_block_create
from publishing.email.tokens import make_token
from publishing.tests.email.factories import EmailDeliveryFactory, EmailTemplateFactory, smtp_account
from publishing.tests.email.helpers import campaign_for, started

NEWSLETTER = ("<html><body><p>Hi {{ contact.first_name }}</p>{{ blocks.articles }}"
              '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>')


@pytest.fixture
def ai(db):
    return crm_services.topic_create(name="AI", slug="ai")


@pytest.fixture
def retail(db):
    return crm_services.topic_create(name="Retail", slug="retail")


def render(recipient, blocks):
    return render_email(subject="News", preheader="", html="{{ blocks.articles }}", text="", recipient=recipient,
                        campaign_name="Spring", unsubscribe_url="https://aicmo.example/u/tok", blocks=blocks)


def test_a_contact_sees_the_blocks_of_their_topics_only():
    blocks = [DynamicBlockRule(slot="articles", html="<p>AI article</p>", topic_ids=frozenset({1})),
              DynamicBlockRule(slot="articles", html="<p>Retail article</p>", topic_ids=frozenset({2}), position=1),
              DynamicBlockRule(slot="articles", html="<p>For all</p>", position=2)]
    follows_ai = render(Recipient(email="a@x.org", topic_ids=frozenset({1})), blocks)
    follows_both = render(Recipient(email="b@x.org", topic_ids=frozenset({1, 2})), blocks)
    follows_none = render(Recipient(email="c@x.org"), blocks)
    assert follows_ai.html == "<p>AI article</p>\n<p>For all</p>"
    assert follows_both.html == "<p>AI article</p>\n<p>Retail article</p>\n<p>For all</p>"
    assert follows_none.html == "<p>For all</p>"


def test_a_block_shows_for_a_tag_a_segment_or_a_topic():
    block = DynamicBlockRule(slot="s", html="x", tag_names=frozenset({"vip"}), segment_ids=frozenset({7}),
                             topic_ids=frozenset({3}))
    assert block.matches(frozenset({"vip"}), frozenset(), frozenset())
    assert block.matches(frozenset(), frozenset({7}), frozenset())
    assert block.matches(frozenset(), frozenset(), frozenset({3}))
    assert not block.matches(frozenset({"other"}), frozenset({8}), frozenset({4}))


def test_templates_can_read_the_contacts_topic_slugs():
    out = render_email(subject="x", preheader="", html='{% if "ai" in contact.topics %}AI fan{% endif %}', text="",
                       recipient=Recipient(email="a@x.org", topic_ids=frozenset({1}), topic_slugs=("ai",)),
                       campaign_name="c", unsubscribe_url="u")
    assert out.html == "AI fan"


@pytest.mark.django_db
def test_recipients_load_the_topics_of_a_whole_batch_in_one_query(ai, retail, django_assert_num_queries):
    people = [ContactFactory() for _ in range(12)]
    for n, person in enumerate(people):
        crm_services.contact_topics_set(contact=person, topics=[ai, retail][: n % 3], source="test")
    contacts = list(Contact.objects.filter(pk__in=[p.pk for p in people]).select_related("company")
                    .prefetch_related("tags"))
    blocks = [DynamicBlockRule(slot="articles", html="", topic_ids=frozenset({ai.pk}))]
    with django_assert_num_queries(1):  # the topics of every contact; no segment in these blocks
        recipients = recipients_for(contacts, blocks)
    assert recipients[people[0].pk].topic_ids == frozenset()
    assert recipients[people[1].pk].topic_ids == frozenset({ai.pk})
    assert recipients[people[2].pk].topic_ids == frozenset({ai.pk, retail.pk})
    assert recipients[people[2].pk].topic_slugs == ("ai", "retail")


@pytest.mark.django_db
def test_two_contacts_with_different_topics_receive_different_articles(smtp_server, ai, retail):
    smtp_account(smtp_server)
    template = EmailTemplateFactory(html_body=NEWSLETTER)
    for position, (topic, article) in enumerate(((ai, "Agents in production"), (retail, "Stores that stayed open"))):
        email_block_create(template=template, slot="articles", html=f"<h2>{article}</h2>", position=position,
                           topics=[topic])
    email_block_create(template=template, slot="articles", html="<p>Events near you</p>", position=9)
    ann, bob = ContactFactory(first_name="Ann"), ContactFactory(first_name="Bob")
    crm_services.contact_topics_set(contact=ann, topics=[ai], source="test")
    crm_services.contact_topics_set(contact=bob, topics=[retail], source="test")
    email_campaign = campaign_for([ann, bob], template=template)

    started(email_campaign)
    report = worker_run(email_campaign_id=email_campaign.pk)

    assert report.sent == 2
    arrived = {mail.rcpt_tos[0]: mail.message().get_body(("html",)).get_content() for mail in smtp_server.messages}
    assert "Agents in production" in arrived[ann.email] and "Stores that stayed open" not in arrived[ann.email]
    assert "Stores that stayed open" in arrived[bob.email] and "Agents in production" not in arrived[bob.email]
    assert all("Events near you" in html for html in arrived.values())


def preferences_url(delivery) -> str:
    return f"/u/{make_token('unsubscribe', delivery.pk)}/topics/"


@pytest.fixture
def follower(ai, retail):
    """A delivery whose contact follows AI and a topic the team set that is not public."""
    hidden = crm_services.topic_create(name="Key account", public=False)
    delivery = EmailDeliveryFactory()
    crm_services.contact_topics_set(contact=delivery.contact, topics=[ai, hidden], source="test")
    return delivery


@pytest.mark.django_db
def test_the_unsubscribe_page_links_to_the_preference_centre(client):
    delivery = EmailDeliveryFactory()
    page = client.get(f"/u/{make_token('unsubscribe', delivery.pk)}")
    assert f'href="{preferences_url(delivery)}"'.encode() in page.content


@pytest.mark.django_db
def test_the_preference_centre_shows_public_topics_with_the_contacts_choices(client, follower):
    delivery = follower
    page = client.get(preferences_url(delivery))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="ai" checked' in html and 'value="retail">' in html
    assert "Key account" not in html and delivery.contact.email in html


@pytest.mark.django_db
def test_posting_the_preference_centre_saves_through_the_crm_service(client, follower):
    delivery = follower
    page = client.post(preferences_url(delivery), {"topics": ["retail", "key-account", "no-such-topic"]})
    assert page.status_code == 200 and b"Saved." in page.content
    assert sorted(delivery.contact.topics.values_list("slug", flat=True)) == ["key-account", "retail"]
    note = EngagementEvent.objects.filter(contact=delivery.contact, source_kind="topics").first()
    assert note.detail["source"] == "email:preferences"
    assert (note.detail["topics_added"], note.detail["topics_removed"]) == (["retail"], ["ai"])
    assert 'value="retail" checked' in page.content.decode()


@pytest.mark.django_db
def test_the_preference_centre_refuses_forged_other_purpose_and_unknown_tokens(client, ai):
    delivery = EmailDeliveryFactory()
    good = make_token("unsubscribe", delivery.pk)
    for token in (good[:-2] + "xx", make_token("open", delivery.pk), make_token("unsubscribe", delivery.pk + 999)):
        assert client.get(f"/u/{token}/topics/").status_code == 404
        assert client.post(f"/u/{token}/topics/", {"topics": ["ai"]}).status_code == 404
    assert not delivery.contact.topics.exists()


@pytest.mark.django_db
def test_the_preference_centre_of_an_erased_person_is_gone(client, follower, make_user):
    from crm.privacy import contact_erase

    contact_erase(contact=follower.contact, by=make_user("dpo"), confirm=follower.contact.email)
    assert client.get(preferences_url(follower)).status_code == 404
