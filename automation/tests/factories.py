"""Journeys for tests: valid by default, a test states only the steps that matter to it."""

from automation.services import journey_activate, journey_create

WELCOME_STEPS = [
    {"key": "tag", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "pause"},
    {"key": "pause", "kind": "wait", "config": {"seconds": 0}, "next": "done"},
    {"key": "done", "kind": "exit"},
]


def journey(*, steps=None, active: bool = True, name: str = "Welcome", **fields):
    created = journey_create(name=name, steps=steps or WELCOME_STEPS, **fields)
    return journey_activate(journey=created) if active else created
