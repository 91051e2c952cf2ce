"""Building the exact bytes of an outgoing message."""

import pytest

from gateways.capabilities import OutgoingEmail
from gateways.mail import build_message, message_bytes
from gateways.mail.compose import envelope_address

LONG_UNSUBSCRIBE = "<https://app.example.com/u/" + "t" * 150 + ">, <mailto:unsubscribe@example.com?subject=u-" + \
    "x" * 40 + ">"


def build(**fields):
    fields.setdefault("to", "ann@example.org")
    fields.setdefault("subject", "News")
    fields.setdefault("text", "Hello\n")
    return build_message(OutgoingEmail(**fields), default_from="News <news@example.com>")


def header_block(message) -> bytes:
    return message_bytes(message).split(b"\r\n\r\n", 1)[0]


def test_a_long_list_unsubscribe_is_folded_only_between_its_entries_and_reads_back_exactly():
    message = build(headers={"List-Unsubscribe": LONG_UNSUBSCRIBE})
    block = header_block(message)
    assert b"List-Unsubscribe: <https://app.example.com/u/" + b"t" * 150 + b">,\r\n <mailto:" in block
    assert b"=?" not in block
    from email import message_from_bytes, policy
    assert message_from_bytes(message_bytes(message), policy=policy.default)["List-Unsubscribe"] == LONG_UNSUBSCRIBE


def test_every_line_ends_in_crlf():
    raw = message_bytes(build(html="<p>Hello</p>"))
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_a_caller_cannot_override_the_headers_the_sender_owns():
    with pytest.raises(ValueError, match="Message-ID"):
        build(headers={"Message-ID": "<forged@example.com>"})


def test_a_message_without_any_sender_is_refused():
    with pytest.raises(ValueError, match="No sender"):
        build_message(OutgoingEmail(to="ann@example.org", subject="x", text="x"), default_from="")


def test_the_account_sender_is_used_unless_the_message_names_its_own():
    assert str(build()["From"]) == "News <news@example.com>"
    assert str(build(from_email="ceo@example.com")["From"]) == "ceo@example.com"


def test_without_html_the_message_is_plain_text_only():
    message = build()
    assert message.get_content_type() == "text/plain"


@pytest.mark.parametrize("value", ["", "a@example.com, b@example.com", "not an address"])
def test_an_envelope_needs_exactly_one_address(value):
    with pytest.raises(ValueError):
        envelope_address(value)
