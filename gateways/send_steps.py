"""Sending in steps: a session's send_steps(message) is a generator that yields where it waits and returns
the receipt, so one thread can keep several connections busy at once without threads of its own.

What it yields says what the caller may do before the next step:
- WAITING: something was written and the server's answer is not read yet; drive other sessions meanwhile.
- BEFORE_END: everything but the end of the message is written and nothing can have been accepted yet.
  The next step ends the message, after which the server may accept it at any moment: this is where a
  caller records, durably, that the message is going out. Closing the generator here (steps.close())
  abandons the message instead: the session drops its connection and the server discards what it got.
  A session that fails over to another provider after the end may yield BEFORE_END again, for the same
  message.
"""

from __future__ import annotations

import enum
from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")


class Step(enum.Enum):
    WAITING = "waiting"
    BEFORE_END = "before end"


SendSteps = Generator[Step, None, T]


def run_steps(steps: SendSteps[T]) -> T:
    """Drive one generator to its end: the plain, one-message-at-a-time send."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def at_once(send, message) -> SendSteps[object]:
    """send_steps() for a session that only has send(): nothing goes out before the one step after
    BEFORE_END, which sends the whole message."""
    yield Step.BEFORE_END
    return send(message)
