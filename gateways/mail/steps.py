"""Sending in steps: a session's send_steps(message) is a generator that yields wherever it waits for
its server and returns the receipt, so one thread can keep several connections busy at once (write to
each, then read each one's answer) without threads of its own."""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")


def run_steps(steps: Generator[None, None, T]) -> T:
    """Drive one generator to its end: the plain, one-message-at-a-time send."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def at_once(send, message) -> Generator[None, None, object]:
    """send_steps() for a session that only has send(): one step, no overlap."""
    return send(message)
    yield  # noqa: B901 - makes this a generator
