"""The SMTP adapter against a real aiosmtpd server on loopback: the bytes that arrive."""

import smtplib
import socketserver
import threading

import pytest

from gateways.adapters.smtp import SmtpAdapter, bracketed
from gateways.capabilities import OutgoingEmail, adapter_class
from gateways.errors import OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.send_steps import Step
from gateways.testing.ports import free_port

UNSUBSCRIBE = ("<https://app.example.com/u/AbCdEf0123456789-signed-token-for-one-recipient-and-one-list>, "
               "<mailto:unsubscribe@news.example.com?subject=unsubscribe-AbCdEf0123456789>")


def smtp_adapter(server, credentials=None, **settings):
    return SmtpAdapter(name="Relay", timeout=5, settings=server.adapter_settings(
        from_email="AICMO News <news@news.example.com>", **settings), credentials=credentials)


def email(to="ann@example.org", **fields):
    return OutgoingEmail(to=to, subject=fields.pop("subject", "Our November news"),
                         text=fields.pop("text", "Hello Ann,\nthe news.\n"),
                         html=fields.pop("html", "<p>Hello Ann,</p><p>the news.</p>"), **fields)


@pytest.fixture(params=[True, False], ids=["pipelining", "one-command-at-a-time"])
def pipelining(request):
    """The server offers PIPELINING or not: the adapter must behave the same either way."""
    return request.param


def body(arrived, subtype):
    """A part's text with the wire's CRLF line ends turned back into newlines."""
    return arrived.get_body((subtype,)).get_content().replace("\r\n", "\n")


@pytest.mark.parametrize("address", ["ann@example.org", "bounces+1f-9a2b@mail.example.com", "o'brien@example.ie",
                                     "first.last@sub.example.co.uk", "Ann <ann@example.org>", "<ann@example.org>",
                                     '"ann smith"@example.org', "<>", ""])
def test_envelope_addresses_are_bracketed_as_smtplib_does(address):
    assert bracketed(address) == smtplib.quoteaddr(address)


def test_smtp_is_registered_as_an_email_sending_adapter():
    assert adapter_class("smtp") is SmtpAdapter
    assert SmtpAdapter.capability == "email_sending"
    assert SmtpAdapter.secret_parameters == ("username", "password")


def test_a_batch_goes_over_one_connection_with_our_headers_exactly(make_smtp_server, pipelining):
    smtp_server = make_smtp_server(pipelining=pipelining)
    headers = {"List-Unsubscribe": UNSUBSCRIBE, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    with smtp_adapter(smtp_server).open() as session:
        receipts = [session.send(email(to=f"reader{n}@example.org", headers=headers,
                                       message_id=f"<delivery-{n}@news.example.com>")) for n in range(3)]

    assert smtp_server.connections == 1
    assert [mail.rcpt_tos for mail in smtp_server.messages] == [[f"reader{n}@example.org"] for n in range(3)]
    assert [receipt.message_id for receipt in receipts] == [f"<delivery-{n}@news.example.com>" for n in range(3)]
    assert all(receipt.response == "250 2.0.0 Ok: queued" and receipt.provider == "Relay" for receipt in receipts)
    first = smtp_server.messages[0]
    assert first.mail_from == "news@news.example.com"
    arrived = first.message()
    assert arrived["Message-ID"] == "<delivery-0@news.example.com>"
    assert arrived["List-Unsubscribe"] == UNSUBSCRIBE
    assert arrived["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert b"=?utf-8?" not in first.data.split(b"\r\n\r\n")[0]  # no encoded words: providers would not decode
    assert arrived["From"] == "AICMO News <news@news.example.com>"
    assert arrived["To"] == "reader0@example.org"
    assert arrived["Date"].datetime is not None
    assert arrived.get_content_type() == "multipart/alternative"
    assert body(arrived, "plain") == "Hello Ann,\nthe news.\n"
    assert body(arrived, "html") == "<p>Hello Ann,</p><p>the news.</p>\n"


def test_a_generated_message_id_is_on_the_senders_domain_and_unique(smtp_server):
    with smtp_adapter(smtp_server).open() as session:
        first, second = session.send(email()), session.send(email())
    assert first.message_id.endswith("@news.example.com>") and first.message_id != second.message_id
    assert [mail.message()["Message-ID"] for mail in smtp_server.messages] == [first.message_id, second.message_id]


@pytest.mark.parametrize("eight_bit_mime", [True, False], ids=["8bitmime", "no-8bitmime"])
def test_non_ascii_subject_names_and_bodies_arrive_encoded_and_intact(make_smtp_server, eight_bit_mime):
    smtp_server = make_smtp_server(eight_bit_mime=eight_bit_mime)
    message = email(to="Zoë Müller <zoe@example.org>", subject="Größe, été — 新闻 🎉",
                    text="Grüße, Zoë!\n", html="<p>Grüße, Zoë! 新闻</p>",
                    from_email="Équipe Marketing <news@news.example.com>", reply_to="Réponses <hello@news.example.com>")
    with smtp_adapter(smtp_server).open() as session:
        session.send(message)

    received = smtp_server.messages[0]
    head, _, _rest = received.data.partition(b"\r\n\r\n")
    assert head.isascii()  # headers are RFC 2047 encoded, whatever the server takes
    if eight_bit_mime:
        # The bodies go as they are (RFC 6152), declared in the envelope.
        assert received.mail_options == ["BODY=8BITMIME"]
        assert received.data.count(b"Content-Transfer-Encoding: 8bit") == 2
    else:
        assert received.data.isascii()  # 7-bit safe for a server that takes nothing else
        assert received.mail_options == []
        assert received.data.count(b"Content-Transfer-Encoding: quoted-printable") == 2
    assert received.rcpt_tos == ["zoe@example.org"]
    arrived = received.message()
    assert str(arrived["Subject"]) == "Größe, été — 新闻 🎉"
    assert arrived["To"].addresses[0].display_name == "Zoë Müller"
    assert arrived["From"].addresses[0].display_name == "Équipe Marketing"
    assert arrived["Reply-To"].addresses[0].display_name == "Réponses"
    assert body(arrived, "plain") == "Grüße, Zoë!\n"
    assert "新闻" in body(arrived, "html")


def test_a_connection_replaced_by_one_without_8bitmime_gets_the_message_quoted_printable(make_smtp_server,
                                                                                         pipelining):
    smtp_server = make_smtp_server(pipelining=pipelining)
    message = email(html="<p>Grüße, Zoë!</p>", text="Grüße, Zoë!\n")
    with smtp_adapter(smtp_server).open() as session:
        session.send(message)
        smtp_server.eight_bit_mime = False
        smtp_server.disconnect_all()
        session.send(message)

    first, second = smtp_server.messages
    assert first.mail_options == ["BODY=8BITMIME"] and b"Content-Transfer-Encoding: 8bit" in first.data
    assert second.connection == 2 and second.mail_options == [] and second.data.isascii()
    assert [body(mail.message(), "html") for mail in (first, second)] == ["<p>Grüße, Zoë!</p>\n"] * 2


def test_a_line_starting_with_a_dot_survives_transparency(smtp_server):
    with smtp_adapter(smtp_server).open() as session:
        session.send(email(text=".\n.hidden line\nend\n", html=""))
    arrived = smtp_server.messages[0].message()
    assert arrived.get_content_type() == "text/plain"
    assert body(arrived, "plain") == ".\n.hidden line\nend\n"


def test_a_refused_recipient_is_rejected_and_the_next_message_still_goes_on_the_same_connection(
        make_smtp_server, pipelining):
    server = make_smtp_server(pipelining=pipelining,
                              refuse_recipients={"gone@example.org": "550 5.1.1 <gone@example.org>: No such user"})
    with smtp_adapter(server).open() as session:
        with pytest.raises(ProviderRejected) as refused:
            session.send(email(to="gone@example.org", message_id="<delivery-gone@news.example.com>"))
        receipt = session.send(email(to="ann@example.org"))

    assert refused.value.status == 550
    assert "No such user" in str(refused.value) and refused.value.details["stage"] == "recipient"
    assert refused.value.details["message_id"] == "<delivery-gone@news.example.com>"
    assert refused.value.details["session_usable"] is True
    assert receipt.response.startswith("250")
    assert server.recipients() == ["ann@example.org"]
    assert server.connections == 1


def test_a_message_refused_after_its_content_is_rejected_and_the_session_goes_on(make_smtp_server, pipelining):
    server = make_smtp_server(pipelining=pipelining,
                              data_replies={"strict@example.org": "554 5.7.1 Message rejected as spam"})
    with smtp_adapter(server).open() as session:
        with pytest.raises(ProviderRejected) as refused:
            session.send(email(to="strict@example.org"))
        session.send(email(to="ann@example.org"))
    assert (refused.value.status, refused.value.details["stage"]) == (554, "message")
    assert server.recipients() == ["ann@example.org"]
    assert server.connections == 1


def test_a_refused_sender_is_rejected_and_the_session_stays_in_step(make_smtp_server, pipelining):
    server = make_smtp_server(pipelining=pipelining,
                              refuse_senders={"ceo@news.example.com": "553 5.7.1 Sender address not allowed"})
    with smtp_adapter(server).open() as session:
        with pytest.raises(ProviderRejected) as refused:
            session.send(email(from_email="ceo@news.example.com"))
        session.send(email(to="ann@example.org"))
        session.send(email(to="bob@example.org"))
    assert (refused.value.status, refused.value.details["stage"]) == (553, "sender")
    assert server.recipients() == ["ann@example.org", "bob@example.org"]
    assert server.connections == 1


def test_a_temporary_refusal_fails_that_message_only_and_the_session_goes_on(make_smtp_server, pipelining):
    server = make_smtp_server(pipelining=pipelining, temporary_failure_every=2)
    outcomes = []
    with smtp_adapter(server).open() as session:
        for n in range(4):
            try:
                session.send(email(to=f"reader{n}@example.org"))
                outcomes.append("sent")
            except ProviderUnavailable as exc:
                outcomes.append((type(exc).__name__, exc.status, exc.details["session_usable"]))

    assert outcomes == ["sent", ("ProviderUnavailable", 454, True), "sent", ("ProviderUnavailable", 454, True)]
    assert server.recipients() == ["reader0@example.org", "reader2@example.org"]
    assert server.connections == 1


def test_a_busy_server_closing_the_connection_is_rate_limited_and_the_next_message_reconnects(
        make_smtp_server, settings, pipelining):
    settings.GATEWAYS_SMTP_RETRY_AFTER_SECONDS = 90
    server = make_smtp_server(pipelining=pipelining, temporary_failure_every=2,
                              temporary_reply="421 4.7.0 Too many messages, slow down")
    with smtp_adapter(server).open() as session:
        session.send(email(to="ann@example.org"))
        with pytest.raises(RateLimited) as busy:
            session.send(email(to="bob@example.org"))
        session.send(email(to="cid@example.org"))

    assert (busy.value.status, busy.value.retry_after, busy.value.details["session_usable"]) == (421, 90, False)
    assert server.recipients() == ["ann@example.org", "cid@example.org"]
    assert server.connections == 2


def test_a_connection_cut_after_the_message_was_sent_is_outcome_unknown_and_never_resent(make_smtp_server, pipelining):
    server = make_smtp_server(pipelining=pipelining, drop_after_data_for={"bob@example.org"})
    with smtp_adapter(server).open() as session:
        session.send(email(to="ann@example.org"))
        with pytest.raises(OutcomeUnknown) as unknown:
            session.send(email(to="bob@example.org", message_id="<delivery-bob@news.example.com>"))
        session.send(email(to="cid@example.org"))

    assert unknown.value.details["message_id"] == "<delivery-bob@news.example.com>"
    # The server did take Bob's message: the outcome really was unknown, and it went exactly once.
    assert server.recipients() == ["ann@example.org", "bob@example.org", "cid@example.org"]
    assert [mail.connection for mail in server.messages] == [1, 1, 2]


def test_a_connection_the_server_closed_while_idle_is_replaced_without_losing_the_message(make_smtp_server, pipelining):
    smtp_server = make_smtp_server(pipelining=pipelining)
    with smtp_adapter(smtp_server).open() as session:
        session.send(email(to="ann@example.org"))
        smtp_server.disconnect_all()
        session.send(email(to="bob@example.org"))
    assert smtp_server.recipients() == ["ann@example.org", "bob@example.org"]
    assert smtp_server.connections == 2


def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(smtp_server):
    with smtp_adapter(smtp_server).open() as session:
        with pytest.raises(ProviderRejected, match="line break"):
            session.send(email(headers={"X-Campaign": "spring\r\nBcc: everyone@example.org"}))
        session.send(email(to="ann@example.org"))
    assert smtp_server.recipients() == ["ann@example.org"]


def test_nobody_listening_is_provider_unavailable_with_advice():
    adapter = SmtpAdapter(name="Relay", timeout=2, settings={"host": "127.0.0.1", "port": free_port(),
                                                                "security": "none", "from_email": "a@b.example"})
    with pytest.raises(ProviderUnavailable) as unavailable:
        adapter.open()
    assert "Cannot reach 127.0.0.1" in str(unavailable.value)
    assert "running and reachable" in unavailable.value.advice


def test_starttls_with_login_sends_over_an_encrypted_connection(make_smtp_server, tls_certificate):
    server = make_smtp_server(tls_context=tls_certificate.server_context(), credentials=("mailer", "s3cret"))
    adapter = smtp_adapter(server, credentials={"username": "mailer", "password": "s3cret"},
                           ca_file=str(tls_certificate.cert_file))
    with adapter.open() as session:
        session.send(email())
    assert server.logins == ["mailer"]
    assert server.recipients() == ["ann@example.org"]


def test_a_wrong_password_is_provider_unavailable_and_says_to_update_it(make_smtp_server, tls_certificate):
    server = make_smtp_server(tls_context=tls_certificate.server_context(), credentials=("mailer", "s3cret"))
    adapter = smtp_adapter(server, credentials={"username": "mailer", "password": "wrong"},
                           ca_file=str(tls_certificate.cert_file))
    with pytest.raises(ProviderUnavailable) as refused:
        adapter.open()
    assert refused.value.status == 535
    assert "update them in Provider accounts" in refused.value.advice
    assert "wrong" not in str(refused.value) + refused.value.advice


def test_an_untrusted_certificate_is_refused(make_smtp_server, tls_certificate):
    server = make_smtp_server(tls_context=tls_certificate.server_context())
    with pytest.raises(ProviderUnavailable, match="TLS"):
        smtp_adapter(server).open()
    assert server.messages == []


def test_implicit_tls_sends(make_smtp_server, tls_certificate):
    server = make_smtp_server(tls_context=tls_certificate.server_context(), implicit_tls=True)
    with smtp_adapter(server, ca_file=str(tls_certificate.cert_file)).open() as session:
        session.send(email())
    assert server.recipients() == ["ann@example.org"]


def test_probe_says_hello_with_the_senders_domain_and_sends_nothing(smtp_server):
    result = smtp_adapter(smtp_server).probe()
    assert result.ok and result.detail.startswith("250")
    assert smtp_server.greetings == ["news.example.com"]
    assert smtp_server.connections == 1 and smtp_server.messages == []


def test_the_helo_name_and_return_path_settings_are_used(smtp_server):
    adapter = smtp_adapter(smtp_server, helo_name="mailer.example.com", return_path="bounces@news.example.com")
    with adapter.open() as session:
        session.send(email())
    assert smtp_server.greetings == ["mailer.example.com"]
    received = smtp_server.messages[0]
    assert received.mail_from == "bounces@news.example.com"  # bounces go to the mailbox we read
    assert received.message()["From"] == "AICMO News <news@news.example.com>"


def test_a_return_path_tag_is_added_to_the_accounts_own_return_path_only(make_smtp_server):
    tagging = make_smtp_server()
    with smtp_adapter(tagging, return_path="bounces@news.example.com").open() as session:
        session.send(email(return_path_tag="2a-0f1e2d3c4b5a69788796"))
        session.send(email(return_path_tag="Not A Tag!"))  # never written into the envelope
    assert [mail.mail_from for mail in tagging.messages] == ["bounces+2a-0f1e2d3c4b5a69788796@news.example.com",
                                                             "bounces@news.example.com"]
    untagged = make_smtp_server()
    with smtp_adapter(untagged).open() as session:
        session.send(email(return_path_tag="2a-0f1e2d3c4b5a69788796"))
    assert untagged.messages[0].mail_from == "news@news.example.com"  # the From mailbox may refuse tagged mail


class _LenientServer(socketserver.StreamRequestHandler):
    """A server that (wrongly, but some do) answers 354 to a pipelined DATA after refusing the only
    recipient; it records every command so the test sees what the client did about it."""

    commands: list[bytes] = []

    def handle(self):
        self.wfile.write(b"220 lenient.test ESMTP\r\n")
        in_data = False
        for line in self.rfile:
            if in_data:
                in_data = line != b".\r\n"
                if not in_data:
                    self.commands.append(b"<end of data>")
                    self.wfile.write(b"250 2.0.0 Ok: queued\r\n" if self.accepted else b"554 5.5.1 No recipients\r\n")
                continue
            command = line.strip().upper()
            self.commands.append(command)
            if command.startswith(b"EHLO"):
                self.wfile.write(b"250-lenient.test\r\n250 PIPELINING\r\n")
            elif command.startswith(b"RCPT"):
                self.accepted = b"GONE@" not in command
                self.wfile.write(b"250 2.1.5 Ok\r\n" if self.accepted else b"550 5.1.1 No such user\r\n")
            elif command == b"DATA":
                in_data = True
                self.wfile.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 Bye\r\n")
                return
            else:
                self.wfile.write(b"250 Ok\r\n")


def test_a_data_accepted_after_a_refused_recipient_is_ended_empty_and_the_next_message_goes():
    server = socketserver.TCPServer(("127.0.0.1", 0), _LenientServer)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    _LenientServer.commands = []
    adapter = SmtpAdapter(name="Relay", timeout=5, settings={
        "host": "127.0.0.1", "port": server.server_address[1], "security": "none", "from_email": "news@example.com"})
    try:
        with adapter.open() as session:
            with pytest.raises(ProviderRejected):
                session.send(email(to="gone@example.org"))
            receipt = session.send(email(to="ann@example.org"))
    finally:
        server.shutdown()
        server.server_close()
    assert receipt.response == "250 2.0.0 Ok: queued"
    after_refusal = _LenientServer.commands[_LenientServer.commands.index(b"DATA"):]
    # The empty DATA was ended at once (nothing delivered), the session reset, then the real message.
    assert after_refusal[:3] == [b"DATA", b"<end of data>", b"RSET"]
    assert after_refusal.count(b"<end of data>") == 2


def test_sessions_sent_in_steps_overlap_and_each_message_arrives_once(make_smtp_server, pipelining):
    """send_steps yields where the session waits for its server, and once just before the message's end:
    several sessions driven in turn by one thread each have their message under way at once, and each
    gets its own receipt."""
    smtp_server = make_smtp_server(pipelining=pipelining)
    adapter = smtp_adapter(smtp_server)
    sessions = [adapter.open() for _ in range(3)]
    steps = [session.send_steps(email(to=f"reader{n}@example.org", message_id=f"<d-{n}@news.example.com>"))
             for n, session in enumerate(sessions)]
    receipts, yielded, passes = {}, {n: [] for n in range(3)}, []
    while len(receipts) < len(steps):
        for n, step in enumerate(steps):
            if n in receipts:
                continue
            try:
                yielded[n].append(next(step))
            except StopIteration as stop:
                receipts[n] = stop.value
        passes.append(len(receipts))
    for session in sessions:
        session.close()

    expected = [Step.BEFORE_END, Step.WAITING]
    assert all(steps_of_one == ([Step.WAITING, *expected] if pipelining else expected)
               for steps_of_one in yielded.values())
    assert passes[0] == 0  # the first pass left every message under way, none waited for before the next
    assert smtp_server.connections == 3
    assert sorted(mail.rcpt_tos[0] for mail in smtp_server.messages) == [f"reader{n}@example.org" for n in range(3)]
    assert [receipts[n].message_id for n in range(3)] == [f"<d-{n}@news.example.com>" for n in range(3)]
    assert all(receipt.response.startswith("250") for receipt in receipts.values())


def test_a_message_abandoned_before_its_end_never_arrives_and_the_session_goes_on(make_smtp_server, pipelining):
    """What a worker killed just before the end leaves: the server got everything but the final "."."""
    smtp_server = make_smtp_server(pipelining=pipelining)
    with smtp_adapter(smtp_server).open() as session:
        steps = session.send_steps(email(to="ann@example.org"))
        while next(steps) is not Step.BEFORE_END:
            pass
        steps.close()
        session.send(email(to="bob@example.org"))

    assert smtp_server.recipients() == ["bob@example.org"]
    assert smtp_server.connections == 2  # the abandoned transaction's connection was dropped
