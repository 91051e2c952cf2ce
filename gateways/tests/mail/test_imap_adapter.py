"""The IMAP adapter against a real Dovecot on loopback holding real bounces, replies and auto-replies."""

import pytest

from gateways.adapters.imap import ImapAdapter
from gateways.adapters.smtp import SmtpAdapter
from gateways.capabilities import OutgoingEmail, adapter_class
from gateways.errors import ProviderUnavailable
from gateways.mail import render_message
from gateways.testing.messages import gmail_reply, postfix_bounce, vacation_auto_reply


def imap_adapter(account, **settings):
    return ImapAdapter(name="Bounces", timeout=5, settings=account.adapter_settings(**settings),
                       credentials=account.adapter_credentials())


def sent(to="gone@example.org", message_id="<delivery-1@news.example.com>"):
    """The bytes our SMTP adapter sends for one delivery."""
    return render_message(
        OutgoingEmail(to=to, subject="Our November news", text="Hello,\nthe news.\n", message_id=message_id),
        default_from="AICMO News <news@news.example.com>",
    ).data


def plain(subject="Invoice 42", sender="billing@example.net"):
    return (f"From: {sender}\r\nTo: news@news.example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@example.net>\r\n\r\nPlease find it attached.\r\n").encode()


def test_imap_is_registered_as_an_inbox_reading_adapter():
    assert adapter_class("imap") is ImapAdapter
    assert ImapAdapter.capability == "inbox_reading"


def test_a_bounce_a_reply_and_an_auto_reply_are_told_apart_and_each_is_returned_once(imap_account):
    imap_account.append(postfix_bounce(original=sent(), recipient="gone@example.org"))
    imap_account.append(gmail_reply(in_reply_to="<delivery-2@news.example.com>", from_email="Ann@Example.org",
                                    to="news@news.example.com", subject="Our November news",
                                    text="Yes please, send me the price list."))
    imap_account.append(vacation_auto_reply(in_reply_to="<delivery-3@news.example.com>",
                                            from_email="away@example.org", to="news@news.example.com",
                                            subject="Our November news"))
    imap_account.append(plain())
    adapter = imap_adapter(imap_account)

    messages = adapter.fetch_since(0)

    assert [(m.uid, m.kind) for m in messages] == [(1, "bounce"), (2, "reply"), (3, "auto-reply"), (4, "other")]
    bounce, reply, auto_reply, _other = messages
    assert bounce.bounce_recipient == "gone@example.org"
    assert (bounce.bounce_type, bounce.bounce_status) == ("hard", "5.1.1")
    assert bounce.bounce_diagnostic.startswith("550 5.1.1 <gone@example.org>: Recipient address rejected: User")
    assert bounce.original_message_id == bounce.in_reply_to == "<delivery-1@news.example.com>"
    assert bounce.from_email == "mailer-daemon@mx.example.org"
    assert reply.in_reply_to == "<delivery-2@news.example.com>"
    assert reply.references == ["<delivery-2@news.example.com>"]
    assert reply.from_email == "ann@example.org"
    assert reply.subject == "Re: Our November news"
    assert reply.text == "Yes please, send me the price list."
    assert auto_reply.in_reply_to == "<delivery-3@news.example.com>"
    assert all(m.received_at is not None and m.uid_validity > 0 for m in messages)

    assert adapter.fetch_since(messages[-1].uid) == []
    imap_account.append(plain("Invoice 43"))
    assert [(m.uid, m.subject) for m in adapter.fetch_since(messages[-1].uid)] == [(5, "Invoice 43")]


def test_a_soft_bounce_with_only_the_original_headers_still_names_the_delivery(imap_account):
    imap_account.append(postfix_bounce(original=sent(to="full@example.org"), recipient="full@example.org",
                                       status="4.2.2", headers_only=True))
    [bounce] = imap_adapter(imap_account).fetch_since(0)
    assert (bounce.kind, bounce.bounce_type, bounce.bounce_status) == ("bounce", "soft", "4.2.2")
    assert bounce.bounce_recipient == "full@example.org"
    assert bounce.original_message_id == "<delivery-1@news.example.com>"


def test_only_the_start_of_a_huge_message_is_read_and_the_bounce_still_parses(imap_account, settings):
    settings.GATEWAYS_IMAP_MAX_MESSAGE_BYTES = 20_000
    huge_original = sent().replace(b"Hello,\r\nthe news.", b"x" * 500_000)
    imap_account.append(postfix_bounce(original=huge_original, recipient="gone@example.org"))
    imap_account.append(plain().replace(b"Please find it attached.", b"y" * 500_000))
    bounce, other = imap_adapter(imap_account).fetch_since(0)
    assert (bounce.kind, bounce.bounce_recipient, bounce.bounce_type) == ("bounce", "gone@example.org", "hard")
    assert bounce.original_message_id == "<delivery-1@news.example.com>"
    assert other.subject == "Invoice 42" and 10_000 < len(other.text) < 20_000


def test_a_delay_warning_is_a_soft_bounce(imap_account):
    imap_account.append(postfix_bounce(original=sent(), recipient="slow@example.org", status="4.4.1",
                                       action="delayed"))
    [warning] = imap_adapter(imap_account).fetch_since(0)
    assert (warning.kind, warning.bounce_recipients, warning.bounce_type) == ("bounce", ["slow@example.org"], "soft")


def test_the_limit_returns_the_oldest_first_and_the_rest_come_next_time(imap_account):
    for n in range(5):
        imap_account.append(plain(f"Invoice {n}"))
    adapter = imap_adapter(imap_account)
    first = adapter.fetch_since(0, limit=3)
    rest = adapter.fetch_since(first[-1].uid, limit=3)
    assert [m.subject for m in first + rest] == [f"Invoice {n}" for n in range(5)]


def test_reading_leaves_messages_unread_for_the_people_who_share_the_mailbox(imap_account):
    imap_account.append(plain())
    imap_adapter(imap_account).fetch_since(0)
    client = imap_account.connect()
    client.select("INBOX", readonly=True)
    _status, data = client.uid("FETCH", "1", "(FLAGS)")
    client.logout()
    assert b"\\Seen" not in data[0]


def test_a_new_uidvalidity_makes_every_message_new_again(imap_account):
    imap_account.append(plain("Invoice 1"))
    imap_account.append(plain("Invoice 2"))
    adapter = imap_adapter(imap_account)
    before = adapter.fetch_since(0)
    imap_account.recreate_mailbox()
    imap_account.append(plain("Invoice 3"))

    after = adapter.fetch_since(before[-1].uid, uid_validity=before[-1].uid_validity)

    assert [(m.uid, m.subject) for m in after] == [(1, "Invoice 3")]
    assert after[0].uid_validity != before[-1].uid_validity
    assert adapter.fetch_since(before[-1].uid, uid_validity=after[0].uid_validity) == []


def test_a_wrong_password_is_provider_unavailable_with_advice(imap_account):
    adapter = ImapAdapter(name="Bounces", timeout=5, settings=imap_account.adapter_settings(),
                          credentials={"username": imap_account.username, "password": "not-it"})
    with pytest.raises(ProviderUnavailable) as refused:
        adapter.fetch_since(0)
    assert "update them in Provider accounts" in refused.value.advice


def test_a_missing_mailbox_is_provider_unavailable_with_advice(imap_account):
    with pytest.raises(ProviderUnavailable) as missing:
        imap_adapter(imap_account, mailbox="Bounces").probe()
    assert "Bounces" in missing.value.advice


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls_read_over_an_encrypted_connection(imap_account, dovecot, security):
    imap_account.append(plain())
    port = dovecot.tls_port if security == "tls" else dovecot.port
    adapter = imap_adapter(imap_account, security=security, port=port, ca_file=str(dovecot.certificate.cert_file))
    assert [m.subject for m in adapter.fetch_since(0)] == ["Invoice 42"]


def test_an_untrusted_certificate_is_refused(imap_account, dovecot):
    adapter = imap_adapter(imap_account, security="tls", port=dovecot.tls_port)
    with pytest.raises(ProviderUnavailable, match="Cannot reach"):
        adapter.fetch_since(0)


def test_probe_logs_in_and_opens_the_mailbox(imap_account):
    imap_account.append(plain())
    result = imap_adapter(imap_account).probe()
    assert result.ok and result.detail.startswith("INBOX: 1 messages (UIDVALIDITY ")



def test_the_bounce_and_the_reply_to_a_message_we_sent_name_its_receipt(smtp_server, imap_account):
    sender = SmtpAdapter(name="Relay", timeout=5, settings=smtp_server.adapter_settings(
        from_email="news@news.example.com", return_path="bounces@news.example.com"))
    with sender.open() as session:
        bounced = session.send(OutgoingEmail(to="gone@example.org", subject="News", text="Hello"))
        answered = session.send(OutgoingEmail(to="ann@example.org", subject="News", text="Hello"))
    gone, ann = smtp_server.messages
    imap_account.append(postfix_bounce(original=gone.data, recipient="gone@example.org", to=gone.mail_from))
    imap_account.append(gmail_reply(in_reply_to=ann.message()["Message-ID"], from_email="ann@example.org",
                                    to="news@news.example.com", subject="News", text="Tell me more."))

    bounce, reply = imap_adapter(imap_account).fetch_since(0)

    assert (bounce.kind, bounce.in_reply_to) == ("bounce", bounced.message_id)
    assert (reply.kind, reply.in_reply_to, reply.text) == ("reply", answered.message_id, "Tell me more.")
