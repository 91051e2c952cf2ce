import pytest
from django.template import Context, Template
from django.utils.safestring import mark_safe

from aicmo_site.errors import DomainError
from crm.tests.factories import CompanyFactory, ContactFactory, SegmentFactory, TagFactory
from publishing.email.plaintext import html_to_text
from publishing.email.recipients import recipients_for
from publishing.email.rendering import (
    DynamicBlockRule,
    Recipient,
    compile_template,
    recipient_context,
    render_email,
    sandbox_engine,
)


def render(html="", subject="Hi", text="", recipient=None, blocks=None):
    return render_email(subject=subject, preheader="", html=html, text=text,
                        recipient=recipient or Recipient(email="ann@example.com", first_name="Ann"),
                        campaign_name="Spring", unsubscribe_url="https://aicmo.example/u/tok", blocks=blocks)


def test_personalisation_uses_documented_variables_and_defaults():
    recipient = Recipient(email="ann@example.com", first_name="", company_name="Acme", custom={"plan": "Pro"})
    out = render(html="<p>{{ contact.first_name|default:'there' }} at {{ contact.company.name }}, "
                      "{{ contact.custom.plan }} · {{ campaign.name }}</p>",
                 subject="Hello {{ contact.first_name|default:'there' }}", recipient=recipient)
    assert out.html == "<p>there at Acme, Pro · Spring</p>"
    assert out.subject == "Hello there"


def test_contact_data_is_escaped_in_html_but_not_in_subject():
    out = render(html="<p>{{ contact.first_name }}</p>", subject="For {{ contact.first_name }}",
                 recipient=Recipient(email="x@example.com", first_name="<b>Tom & Jerry</b>"))
    assert out.html == "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"
    assert out.subject == "For <b>Tom & Jerry</b>"


@pytest.mark.parametrize("source", [
    "{% load static %}", "{% include 'base.html' %}", "{% extends 'base.html' %}", "{% debug %}",
    "{{ contact.__class__ }}", "{{ contact.first_name|safe }}", "{% autoescape off %}x{% endautoescape %}",
    "{% url 'home' %}", "{% csrf_token %}", "{% filter safe %}x{% endfilter %}",
])
def test_sandbox_refuses_tags_filters_and_attributes_outside_the_allow_list(source):
    with pytest.raises(DomainError) as caught:
        compile_template(source)
    assert caught.value.code == "template_syntax"


@pytest.mark.parametrize("first_name", ["Ann", "", "<Tom & 'Jerry'>"])
@pytest.mark.parametrize("autoescape", [True, False], ids=["html", "text"])
def test_the_planned_template_writes_every_variable_as_django_does(first_name, autoescape):
    """The plan's shorter way for plain variables gives Django's text, and anything else goes Django's way."""
    source = " | ".join([
        "{{ contact.first_name }}", "{{ contact.first_name|default:'Friend' }}",
        '{{ contact.first_name|default:"<b>you</b>" }}', "{{ contact.company.name|default:'your company' }}",
        "{{ contact.custom.plan }}", "{{ contact.custom.count }}", "{{ contact.custom.zero|default:'none' }}",
        "{{ contact.custom.markup }}", "{{ contact.custom.missing|default:'m' }}", "{{ contact.nope.deeper }}",
        "{{ contact.tags }}", "{{ contact.tags.0 }}", "{{ contact }}", "{{ missing }}", "{{ missing|default:'m' }}",
        "{{ contact.first_name|default:campaign.name }}", "{{ contact.first_name|upper }}",
        "{{ contact.first_name|default:'a'|upper }}", "{{ unsubscribe_url }}", "{{ 'literal' }}", "{{ True }}",
        "{% if contact.first_name %}{{ contact.first_name }}{% endif %}{{ contact.first_name }}",
    ])
    recipient = Recipient(email="ann@example.com", first_name=first_name, tags=frozenset({"b&b", "a"}),
                          custom={"plan": "Pro & Co", "count": 3, "zero": 0, "markup": mark_safe("<i>ok</i>")})
    values = recipient_context(recipient, campaign_name="Spring <sale>", unsubscribe_url="https://x.example/u?a=1&b=2")

    planned = compile_template(source).render(Context(values, autoescape=autoescape))

    assert planned == Template(source, engine=sandbox_engine()).render(Context(values, autoescape=autoescape))


def test_templates_cannot_call_methods_of_the_data_they_see():
    recipient = Recipient(email="ann@example.com", custom={"nested": {"a": 1}}, tags=frozenset({"ai"}))
    out = render(html="[{{ contact.items }}][{{ contact.custom.keys }}][{{ contact.tags.clear }}][{{ contact }}]",
                 recipient=recipient)
    assert out.html == "[][][][]"


def test_a_repeated_variable_is_written_everywhere_and_escaped_in_each_place():
    out = render(html="<p>{{ contact.first_name }}</p>" * 3 + "{{ contact.first_name|upper }}",
                 recipient=Recipient(email="x@example.com", first_name="Tom & Jerry"))
    assert out.html == "<p>Tom &amp; Jerry</p>" * 3 + "TOM &amp; JERRY"


def test_a_variable_set_by_a_tag_between_two_uses_is_read_again():
    out = render(html='{% firstof "one" as word %}{{ word }} {% firstof "two" as word %}{{ word }} '
                      '{% cycle "a" "b" as letter %}{{ letter }}{% cycle letter %}{{ letter }}')
    assert out.html == "one two aabb"


def test_text_body_is_generated_from_html_when_blank():
    out = render(html='<html><head><style>p{}</style></head><body><h1>News</h1><p>Hi {{ contact.first_name }}'
                      '<br>see <a href="https://example.org/a">the post</a></p></body></html>')
    assert out.text == "News\n\nHi Ann\nsee the post (https://example.org/a)\n"


def test_given_text_body_is_rendered_instead_of_generated():
    out = render(html="<p>html</p>", text="Plain {{ contact.first_name }} & co")
    assert out.text == "Plain Ann & co"


def test_html_to_text_lists_and_skips_scripts():
    assert html_to_text("<ul><li>One</li><li>Two</li></ul><script>x()</script>") == "- One\n- Two\n"


def test_dynamic_blocks_are_chosen_by_tag_or_segment():
    blocks = [
        DynamicBlockRule(slot="news", html="<p>AI for {{ contact.first_name }}</p>", tag_names=frozenset({"ai"})),
        DynamicBlockRule(slot="news", html="<p>Retail</p>", segment_ids=frozenset({7}), position=1),
        DynamicBlockRule(slot="footer", html="<p>Everyone</p>"),
    ]
    html = "{{ blocks.news }}|{{ blocks.footer }}"
    ai = render(html=html, blocks=blocks, recipient=Recipient(email="a@x.org", first_name="Al",
                                                               tags=frozenset({"ai"})))
    retail = render(html=html, blocks=blocks, recipient=Recipient(email="b@x.org", segment_ids=frozenset({7})))
    nobody = render(html=html, blocks=blocks, recipient=Recipient(email="c@x.org"))
    assert ai.html == "<p>AI for Al</p>|<p>Everyone</p>"
    assert retail.html == "<p>Retail</p>|<p>Everyone</p>"
    assert nobody.html == "|<p>Everyone</p>"


@pytest.mark.django_db
def test_recipients_gather_tags_company_and_segment_membership(django_assert_num_queries):
    ai = TagFactory(name="ai")
    acme = CompanyFactory(name="Acme", domain="acme.example")
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "job_title", "operator": "contains",
                                                           "value": "CTO"}]})
    cto = ContactFactory(job_title="CTO", company=acme, tags=[ai])
    other = ContactFactory(job_title="Intern")
    contacts = list(type(cto).objects.filter(pk__in=[cto.pk, other.pk]).select_related("company")
                    .prefetch_related("tags"))
    with django_assert_num_queries(3):  # the segment, its members among these contacts, their topics
        recipients = recipients_for(contacts, [DynamicBlockRule(slot="s", html="",
                                                                segment_ids=frozenset({segment.pk}))])
    assert recipients[cto.pk].tags == frozenset({"ai"})
    assert recipients[cto.pk].company_name == "Acme"
    assert recipients[cto.pk].segment_ids == frozenset({segment.pk})
    assert recipients[other.pk].segment_ids == frozenset()
