import pytest
from django.core.exceptions import ValidationError

from automation.services.graph import graph_validate
from publishing.tests.email.factories import EmailTemplateFactory


def errors_of(steps) -> dict:
    with pytest.raises(ValidationError) as caught:
        graph_validate(steps)
    return caught.value.message_dict


def test_a_step_leading_nowhere_is_a_dead_end():
    assert "steps[0].next" in errors_of([{"key": "a", "kind": "add_tag", "config": {"tag": "x"}}])


def test_a_wait_needs_a_way_out():
    assert errors_of([{"key": "w", "kind": "wait", "config": {"days": 2}}])["steps[0].next"] == [
        "A wait needs a step to go on to."]


@pytest.mark.django_db
def test_an_email_step_needs_a_template_that_exists():
    steps = [{"key": "mail", "kind": "send_email", "config": {}, "next": "end"}, {"key": "end", "kind": "exit"}]
    assert errors_of(steps)["steps[0].config"] == ["An email step needs an email template."]
    steps[0]["config"] = {"template_id": EmailTemplateFactory().pk}
    graph_validate(steps)


@pytest.mark.django_db
def test_an_email_step_delivers_at_once_or_at_the_best_hour_and_nothing_else():
    template = EmailTemplateFactory().pk
    steps = [{"key": "mail", "kind": "send_email", "config": {"template_id": template, "deliver": "tomorrow"},
              "next": "end"}, {"key": "end", "kind": "exit"}]
    assert errors_of(steps)["steps[0].config"] == [
        "Choose when the email goes: at once, or at the contact's best hour."]
    for deliver in ("at_once", "best_hour"):
        steps[0]["config"]["deliver"] = deliver
        graph_validate(steps)


def test_a_link_to_a_missing_step_and_a_duplicate_key_are_named():
    found = errors_of([{"key": "a", "kind": "add_tag", "config": {"tag": "x"}, "next": "b"},
                       {"key": "a", "kind": "exit"}])
    assert "steps[0].next" in found and "steps[1].key" in found


def test_a_condition_needs_both_ways_and_one_question():
    found = errors_of([{"key": "c", "kind": "condition", "config": {"tag": "x", "lifecycle": "new"}, "next": "e"},
                       {"key": "e", "kind": "exit"}])
    assert set(found) == {"steps[0].other", "steps[0].config"}


def test_unreachable_steps_and_loops_without_a_wait_are_refused():
    assert "steps[2].key" in errors_of([
        {"key": "a", "kind": "add_tag", "config": {"tag": "x"}, "next": "e"}, {"key": "e", "kind": "exit"},
        {"key": "lost", "kind": "exit"}])
    loop = [{"key": "a", "kind": "add_tag", "config": {"tag": "x"}, "next": "c"},
            {"key": "c", "kind": "condition", "config": {"tag": "y"}, "next": "e", "other": "a"},
            {"key": "e", "kind": "exit"}]
    assert "loop" in errors_of(loop)["steps[0].key"][0]
    loop.insert(1, {"key": "w", "kind": "wait", "config": {"hours": 1}, "next": "c"})
    loop[0]["next"] = "w"
    graph_validate(loop)
