"""Writing the exact bytes of an outgoing message."""

from email import message_from_bytes, policy

import pytest

from gateways.capabilities import OutgoingEmail
from gateways.mail import render_message
from gateways.mail.compose import envelope_address

LONG_UNSUBSCRIBE = "<https://app.example.com/u/" + "t" * 150 + ">, <mailto:unsubscribe@example.com?subject=u-" + \
    "x" * 40 + ">"


def render(**fields):
    fields.setdefault("to", "ann@example.org")
    fields.setdefault("subject", "News")
    fields.setdefault("text", "Hello\n")
    return render_message(OutgoingEmail(**fields), default_from="News <news@example.com>")


def parsed(rendered):
    return message_from_bytes(rendered.data, policy=policy.default)


def header_block(rendered) -> bytes:
    return rendered.data.split(b"\r\n\r\n", 1)[0]


def test_a_long_list_unsubscribe_is_folded_only_between_its_entries_and_reads_back_exactly():
    rendered = render(headers={"List-Unsubscribe": LONG_UNSUBSCRIBE})
    block = header_block(rendered)
    assert b"List-Unsubscribe: <https://app.example.com/u/" + b"t" * 150 + b">,\r\n <mailto:" in block
    assert b"=?" not in block
    assert parsed(rendered)["List-Unsubscribe"] == LONG_UNSUBSCRIBE


def test_a_long_ascii_subject_is_folded_at_spaces_and_reads_back_exactly():
    subject = " ".join(f"word{n}" for n in range(40))
    rendered = render(subject=subject)
    assert all(len(line) <= 78 for line in header_block(rendered).split(b"\r\n"))
    assert str(parsed(rendered)["Subject"]) == subject


def test_every_line_ends_in_crlf_and_the_message_is_seven_bit():
    subject = "Grüße aus München: unsere Neuigkeiten für den November, mit Rabatten für treue Leser " * 2
    rendered = render(text="Grüße\n" + "long line " * 200, html="<p>Größe</p>", subject=subject)
    data = rendered.data
    assert str(parsed(rendered)["Subject"]) == subject
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.isascii()
    assert max(len(line) for line in data.split(b"\r\n")) <= 78


def test_text_and_html_become_alternatives_of_one_message():
    message = parsed(render(text="Plain\n", html="<p>Rich</p>"))
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Plain"
    assert message.get_body(("html",)).get_content().strip() == "<p>Rich</p>"


def test_a_caller_cannot_override_the_headers_the_sender_owns():
    with pytest.raises(ValueError, match="Message-ID"):
        render(headers={"Message-ID": "<forged@example.com>"})


@pytest.mark.parametrize("name", ["X-Evil\r\nBcc", "Bcc: x", "X Campaign", ""])
def test_a_header_name_that_could_smuggle_another_header_is_refused(name):
    with pytest.raises(ValueError, match="not a valid header name"):
        render(headers={name: "value"})


def test_a_message_without_any_sender_is_refused():
    with pytest.raises(ValueError, match="No sender"):
        render_message(OutgoingEmail(to="ann@example.org", subject="x", text="x"), default_from="")


def test_the_account_sender_is_used_unless_the_message_names_its_own():
    assert str(parsed(render())["From"]) == "News <news@example.com>"
    assert render(from_email="ceo@example.com").sender == "ceo@example.com"


def test_a_display_name_with_specials_is_quoted():
    message = parsed(render(to='"Smith, Ann" <ann@example.org>'))
    assert message["To"].addresses[0].display_name == "Smith, Ann"
    assert message["To"].addresses[0].addr_spec == "ann@example.org"


def test_without_html_the_message_is_plain_text_only():
    assert parsed(render()).get_content_type() == "text/plain"


@pytest.mark.parametrize("value", ["", "a@example.com, b@example.com", "not an address"])
def test_an_envelope_needs_exactly_one_address(value):
    with pytest.raises(ValueError):
        envelope_address(value)


NEWSLETTER_HTML = ("<html><body>" + "<p>Zoë, here is what is new at ACME: products, a webinar and a discount, "
                   "written on one line longer than quoted-printable's 76 characters.</p>\n" * 40
                   + "<p><a href=\"https://example.org/webinar\">Join</a> · <a href=\"https://example.org/shop\">"
                   "Shop</a></p>\n.a line starting with a dot\n</body></html>")


def test_with_8bitmime_a_non_ascii_body_goes_as_it_is_and_reads_back_as_quoted_printable_does():
    fields = {"subject": "Zoë, our news", "text": "Grüße, Zoë!\n" + "A long line of the plain text. " * 10,
              "html": NEWSLETTER_HTML, "message_id": "<1.2@example.com>", "reply_to": "Réponses <r@example.com>",
              "headers": {"List-Unsubscribe": LONG_UNSUBSCRIBE}}
    quoted = render(**fields)
    eight_bit = render_message(OutgoingEmail(to="ann@example.org", **fields), default_from="News <news@example.com>",
                               eight_bit=True)

    assert not quoted.eight_bit and quoted.data.isascii()
    assert eight_bit.eight_bit
    assert eight_bit.data.count(b"Content-Transfer-Encoding: 8bit\r\n") == 2
    assert NEWSLETTER_HTML.replace("\n", "\r\n").encode() in eight_bit.data
    assert header_block(eight_bit).isascii()
    assert all(len(line) <= 998 for line in eight_bit.data.split(b"\r\n"))
    # The same message once decoded: every header but the date and the (random) boundary, each part's content.
    before, after = parsed(quoted), parsed(eight_bit)
    assert [(name, value) for name, value in before.items() if name not in ("Date", "Content-Type")] == \
        [(name, value) for name, value in after.items() if name not in ("Date", "Content-Type")]
    assert before.get_content_type() == after.get_content_type() == "multipart/alternative"
    parts_before, parts_after = list(before.iter_parts()), list(after.iter_parts())
    assert [p.get_content_type() for p in parts_before] == [p.get_content_type() for p in parts_after] == \
        ["text/plain", "text/html"]
    assert [p["Content-Transfer-Encoding"] for p in parts_before] == ["quoted-printable"] * 2
    assert [p.get_content() for p in parts_before] == [p.get_content() for p in parts_after]
    assert [p.get_content_charset() for p in parts_after] == ["utf-8", "utf-8"]


@pytest.mark.parametrize("html", ["<p>Zoë " + "x" * 1000 + "</p>", "<p>Zoë \x00</p>"],
                         ids=["line-over-998-bytes", "nul"])
def test_a_body_that_8bit_cannot_carry_stays_quoted_printable_with_8bitmime(html):
    rendered = render_message(OutgoingEmail(to="ann@example.org", subject="x", text="plain\n", html=html),
                              default_from="News <news@example.com>", eight_bit=True)
    assert not rendered.eight_bit and rendered.data.isascii()
    assert b"Content-Transfer-Encoding: quoted-printable" in rendered.data
    assert parsed(rendered).get_body(("html",)).get_content() == html + "\r\n"  # the wire's line end


def test_an_ascii_body_stays_7bit_with_8bitmime():
    rendered = render_message(OutgoingEmail(to="ann@example.org", subject="x", text="plain\n", html="<p>Hi</p>"),
                              default_from="News <news@example.com>", eight_bit=True)
    assert not rendered.eight_bit
    assert rendered.data.count(b"Content-Transfer-Encoding: 7bit") == 2
