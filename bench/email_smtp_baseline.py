"""SMTP sending speed over one reused connection: the SMTP adapter (building each ~10 kB personalised
message, our own Message-ID, List-Unsubscribe headers, reading every answer) against the baseline of a
bare smtplib loop pushing the same number of pre-rendered messages to the same server.

The server is Postfix's smtp-sink started on a free loopback port (`--port` to use one already
running): aiosmtpd would measure itself, not the client. The email campaign benchmark reuses
`smtplib_baseline()` for its own baseline."""

import argparse
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gateways.capabilities import OutgoingEmail

SENDER = "news@news.example.com"
SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"


def campaign_emails(count: int, size: int) -> list[OutgoingEmail]:
    paragraph = "<p>Our November news: new products, a webinar and a discount for loyal readers.</p>\n"
    html_body = paragraph * max(1, size // len(paragraph))
    return [
        OutgoingEmail(
            to=f"reader{n}@example.org", subject=f"Reader {n}, our November news",
            text=f"Hello reader {n},\n" + "Our November news.\n" * max(1, size // 200), html=f"<p>Hello reader {n},</p>"
            + html_body,
            headers={"List-Unsubscribe": f"<https://app.example.com/u/token-{n}>, <mailto:unsubscribe@example.com>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )
        for n in range(count)
    ]


def smtplib_baseline(host: str, port: int, payloads: list[tuple[str, bytes]]) -> float:
    """Messages per second of a bare smtplib loop over one connection: the limit of one Python client."""
    started = time.perf_counter()
    with smtplib.SMTP(host, port, local_hostname="bench.example.com") as smtp:
        for recipient, payload in payloads:
            smtp.sendmail(SENDER, [recipient], payload)
    return len(payloads) / (time.perf_counter() - started)


def adapter_rate(host: str, port: int, emails: list[OutgoingEmail]) -> float:
    from gateways.adapters.smtp import SmtpAdapter

    adapter = SmtpAdapter(name="bench", timeout=30, settings={
        "host": host, "port": port, "security": "none", "from_email": f"AICMO News <{SENDER}>"})
    started = time.perf_counter()
    with adapter.open() as session:
        for email in emails:
            session.send(email)
    return len(emails) / (time.perf_counter() - started)


def start_counting_sink(counting: bool, prefix: str):
    """smtp-sink as start_sink; when `counting`, writing what it receives to a file in a temporary folder.
    Returns (process, port, the file or None, the folder to clean up or None)."""
    folder = tempfile.TemporaryDirectory(prefix=prefix) if counting else None
    dump = Path(folder.name) / "received" if folder else None
    if folder:
        os.chmod(folder.name, 0o777)  # noqa: S103 - smtp-sink writes there as nobody
    sink, port = start_sink(str(dump) if dump else "")
    return sink, port, dump, folder


def start_sink(dump: str = "") -> tuple[subprocess.Popen, int]:
    """smtp-sink on a free loopback port; with `dump`, every message it receives is appended to that file
    (to count at the server what arrived)."""
    from gateways.testing.ports import free_port

    port = free_port()
    sink = subprocess.Popen([SMTP_SINK, "-u", "nobody", *(["-D", dump] if dump else []), f"127.0.0.1:{port}", "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=1).quit()
            return sink, port
        except OSError:
            time.sleep(0.05)
    sink.kill()
    raise RuntimeError(f"smtp-sink did not start on 127.0.0.1:{port}")


def main(argv):
    parser = argparse.ArgumentParser(prog="bench email_smtp_baseline", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=10_000, help="approximate HTML bytes per message")
    parser.add_argument("--port", type=int, default=0, help="an SMTP sink already listening on 127.0.0.1")
    args = parser.parse_args(argv)

    from bench.conditions import describe, peak_rss_mb, setup_django

    setup_django()
    from gateways.mail import render_message

    emails = campaign_emails(args.messages, args.size)
    payloads = [(e.to, render_message(e, default_from=SENDER).data) for e in emails]
    average = sum(len(payload) for _to, payload in payloads) / len(payloads)
    sink, port = (None, args.port) if args.port else start_sink()
    try:
        baseline = smtplib_baseline("127.0.0.1", port, payloads)
        rate = adapter_rate("127.0.0.1", port, emails)
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait(timeout=10)
    print(describe(messages=args.messages, bytes_per_message=f"{average:,.0f}", server="smtp-sink"))
    print(f"SMTP adapter (builds each message): {rate:,.0f} messages/s | bare smtplib baseline (pre-rendered): "
          f"{baseline:,.0f} messages/s | ratio {rate / baseline:.2f} | peak memory {peak_rss_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
