"""Classifying and reading received messages (no server: the IMAP tests cover the real mailbox)."""

from datetime import UTC, datetime

from gateways.mail import parse_inbound
from gateways.mail.text import html_to_text, strip_quoted
from gateways.testing.messages import postfix_bounce

ORIGINAL = (b"Message-ID: <delivery-7@news.example.com>\r\nFrom: news@news.example.com\r\nTo: x@example.org\r\n"
            b"Subject: News\r\n\r\nHello\r\n")


def message(headers: str, body: str = "Hello\n") -> bytes:
    return (headers.strip() + "\n\n" + body).replace("\n", "\r\n").encode()


def test_a_dsn_with_several_recipients_reports_the_failed_one():
    raw = postfix_bounce(original=ORIGINAL, recipient="gone@example.org").replace(
        b"Final-Recipient: rfc822; gone@example.org",
        b"Final-Recipient: rfc822; ok@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.org",
    )
    found = parse_inbound(raw, uid=1)
    assert (found.kind, found.bounce_recipient, found.bounce_type) == ("bounce", "gone@example.org", "hard")
    assert found.in_reply_to == "<delivery-7@news.example.com>"


def test_a_reply_known_only_by_its_subject_is_a_reply():
    found = parse_inbound(message("From: ann@example.org\nSubject: RE: News\nMessage-ID: <r1@example.org>",
                                  "Sounds good.\n\n-----Original Message-----\nFrom: News\n"), uid=3)
    assert (found.kind, found.text, found.in_reply_to) == ("reply", "Sounds good.", "")


def test_an_auto_submitted_message_is_never_a_reply_even_when_it_answers_ours():
    found = parse_inbound(message("From: ann@example.org\nSubject: Re: News\nIn-Reply-To: <d1@news.example.com>\n"
                                  "Auto-Submitted: auto-generated"), uid=4)
    assert found.kind == "auto-reply"


def test_an_out_of_office_without_auto_submitted_is_recognised_by_x_autoreply():
    found = parse_inbound(message("From: ann@example.org\nSubject: Out of office: News\n"
                                  "In-Reply-To: <d1@news.example.com>\nX-Autoreply: yes"), uid=5)
    assert found.kind == "auto-reply"


def test_auto_submitted_no_is_a_person():
    found = parse_inbound(message("From: ann@example.org\nSubject: Re: News\nIn-Reply-To: <d1@news.example.com>\n"
                                  "Auto-Submitted: no"), uid=6)
    assert found.kind == "reply"


def test_an_html_only_reply_drops_the_blockquoted_original():
    body = ('<html><head><style>p{color:red}</style></head><body><div>Count me in &amp; my team.</div>'
            '<blockquote><p>Our November news</p></blockquote></body></html>')
    found = parse_inbound(message("From: ann@example.org\nSubject: Re: News\nIn-Reply-To: <d1@news.example.com>\n"
                                  "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8", body), uid=7)
    assert found.text == "Count me in & my team."


def test_the_server_arrival_time_wins_over_the_senders_date():
    arrived = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    raw = message("From: a@example.org\nSubject: Hi\nDate: Mon, 01 Jan 2001 00:00:00 +0000")
    assert parse_inbound(raw, uid=1, received_at=arrived).received_at == arrived
    assert parse_inbound(raw, uid=1).received_at == datetime(2001, 1, 1, tzinfo=UTC)


def test_broken_headers_do_not_stop_the_message_from_being_read():
    raw = message("From: \"unterminated <a@example.org\nSubject: =?utf-8?q?broken\nDate: yesterday\n"
                  "Message-ID: no-brackets-here")
    found = parse_inbound(raw, uid=9)
    assert found.kind == "other" and found.message_id == "" and found.received_at is None


def test_quotes_signatures_and_wrapped_attributions_are_removed():
    text = ("Thanks, I'll call you.\n\nAnn\n-- \nAnn Example, CEO\n")
    assert strip_quoted(text) == "Thanks, I'll call you.\n\nAnn"
    assert strip_quoted("Yes.\nLe lun. 23 nov. 2026 à 18:00, News <n@example.com> a écrit :\n> old") == "Yes."
    assert strip_quoted("Ja.\nAm 23.11.2026 um 18:00 schrieb News <n@example.com>:\n> alt") == "Ja."
    assert strip_quoted("Sure.\nOn Mon, 23 Nov 2026 at 18:00, News <n@example.com>\nwrote:\n> old") == "Sure."


def test_html_to_text_keeps_paragraphs_and_drops_scripts():
    assert html_to_text("<p>One</p><script>alert(1)</script><p>Two&nbsp;words</p>") == "One\n\nTwo words"


def test_a_body_in_an_unknown_charset_is_still_read():
    raw = message("From: a@example.org\nSubject: Re: News\nIn-Reply-To: <d1@news.example.com>\nMIME-Version: 1.0\n"
                  "Content-Type: text/plain; charset=x-made-up", "Yes, thanks.\n")
    found = parse_inbound(raw, uid=10)
    assert (found.kind, found.text) == ("reply", "Yes, thanks.")


def test_a_complaint_report_is_a_complaint_not_a_bounce():
    raw = message("From: feedback@mail.example.net\nSubject: Complaint\nMIME-Version: 1.0\n"
                  'Content-Type: multipart/report; report-type=feedback-report; boundary="b"',
                  "--b\nContent-Type: text/plain\n\nA complaint.\n--b\nContent-Type: message/feedback-report\n\n"
                  "Feedback-Type: abuse\n\n--b--\n")
    found = parse_inbound(raw, uid=11)
    assert (found.kind, found.bounce_recipients, found.bounce_type) == ("complaint", [], "")


def test_the_tags_of_the_addresses_a_message_was_delivered_to_are_read():
    raw = message("Delivered-To: bounces+2A-ff00@aicmo.example\nTo: bounces+2a-ff00@aicmo.example, ann@example.org\n"
                  "X-Original-To: news+weekly+7-aa@aicmo.example\nFrom: MAILER-DAEMON@mx.example.org\nSubject: x")
    assert parse_inbound(raw, uid=1).return_path_tags == ["2a-ff00", "7-aa"]
