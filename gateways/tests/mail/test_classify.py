"""Every message of the corpus (gateways/testing/mail_corpus) gets its kind, failed recipients,
class and status; and the class rules of RFC 3463 with their exceptions."""

import pytest

from gateways.mail.classify import classify_message
from gateways.mail.dsn import failure_class
from gateways.testing.corpus import CORPUS, ORIGINAL_MESSAGE_ID, corpus_message


@pytest.mark.parametrize(("name", "expected"), CORPUS.items(), ids=list(CORPUS))
def test_the_corpus_is_classified(name, expected):
    found = classify_message(corpus_message(name))
    assert (found.kind, found.recipients, found.bounce_class, found.status) == (
        expected.kind, expected.recipients, expected.bounce_class, expected.status)
    assert (found.original_message_id == ORIGINAL_MESSAGE_ID) is expected.names_original
    if found.kind == "bounce":
        assert found.reason


def test_corpus_covers_every_file():
    from gateways.testing.corpus import CORPUS_DIR
    assert sorted(path.name for path in CORPUS_DIR.glob("*.eml")) == sorted(CORPUS)


@pytest.mark.parametrize(("status", "delayed", "expected"), [
    ("5.1.1", False, "hard"), ("5.1.10", False, "hard"), ("5.0.0", False, "hard"), ("550", False, "hard"),
    ("5.2.2", False, "soft"), ("5.3.4", False, "soft"), ("5.4.7", False, "soft"), ("552", False, "soft"),
    ("4.4.7", False, "soft"), ("451", False, "soft"), ("5.1.1", True, "soft"),
])
def test_the_class_follows_the_enhanced_status_code(status, delayed, expected):
    assert failure_class(status, delayed=delayed) == expected


def test_a_failure_without_any_code_is_hard_when_permanent_and_soft_when_temporary():
    assert (failure_class(""), failure_class("", permanent=False)) == ("hard", "soft")


def test_the_recipients_classes_differ_in_one_report():
    found = classify_message(corpus_message("rfc3464_multiple_recipients.eml"))
    assert found.recipient_classes == {"gone@example.org": "hard", "full@example.org": "soft"}


def test_a_bounce_naming_our_message_in_in_reply_to_is_never_a_reply():
    found = classify_message(corpus_message("bounce_with_in_reply_to.eml"))
    assert found.kind == "bounce" and found.original_message_id == ORIGINAL_MESSAGE_ID


def test_a_reply_quoting_bounce_words_stays_a_reply():
    assert classify_message(corpus_message("human_reply.eml")).kind == "reply"


def test_a_mail_server_message_without_a_failure_is_other_even_when_it_answers_ours():
    raw = (b"From: MAILER-DAEMON@mx.example.org\r\nSubject: Re: November news\r\n"
           b"In-Reply-To: " + ORIGINAL_MESSAGE_ID.encode() + b"\r\n\r\nAll good.\r\n")
    assert classify_message(raw).kind == "other"


def test_a_message_any_detector_trips_on_is_still_classified():
    raw = b"From: a@example.org\r\nContent-Type: multipart/report; boundary=x\r\n\r\n--x\r\nbroken"
    assert classify_message(raw).kind == "other"
