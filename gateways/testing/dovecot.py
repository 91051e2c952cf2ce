"""A private Dovecot IMAP server on loopback for tests: its own configuration, passwd-file users,
maildirs and sockets in a temporary directory, on free ports. It never touches the system's Dovecot
service, its configuration, or port 143. Debian's dovecot-imapd provides /usr/sbin/dovecot
(scripts/system-deps.sh installs it)."""

from __future__ import annotations

import imaplib
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gateways.testing.ports import free_port
from gateways.testing.tls import SelfSignedCertificate, make_certificate

DOVECOT = os.environ.get("AICMO_TEST_DOVECOT", "/usr/sbin/dovecot")
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests try wrong passwords on purpose: no delay, and no per-IP penalty (anvil-auth-penalty below)
# slowing down every login after them.
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {mail_uid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@dataclass
class ImapAccount:
    """A mailbox of its own (each test gets a fresh user, so tests never see each other's mail)."""

    server: DovecotServer
    username: str
    password: str

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.server.port, timeout=10)
        client.login(self.username, self.password)
        return client

    def append(self, raw: bytes, *, mailbox: str = "INBOX") -> int:
        """Deliver a message as a mail server would; returns its UID."""
        client = self.connect()
        try:
            if mailbox != "INBOX":
                client.create(mailbox)  # answers NO when it exists already, which is fine
            status, data = client.append(mailbox, None, None, raw)
            if status != "OK":
                raise RuntimeError(f"APPEND to {mailbox} failed: {data}")
            # Dovecot answers "[APPENDUID <uidvalidity> <uid>] Append completed."
            return int(data[0].split(b"]")[0].split()[-1])
        finally:
            client.logout()

    def recreate_mailbox(self) -> None:
        """Delete the INBOX and start it again with UIDs from 1 and a new UIDVALIDITY, as after a
        restore from backup. Dovecot derives UIDVALIDITY from the clock in seconds, so a mailbox
        recreated within the same second would keep it: set the new one explicitly."""
        client = self.connect()
        try:
            _status, data = client.status("INBOX", "(UIDVALIDITY)")
        finally:
            client.logout()
        old = int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))
        shutil.rmtree(self.server.root / "mail" / self.username)
        self.server.doveadm("mailbox", "update", "-u", self.username, "--uid-validity", str(old + 1), "INBOX")

    def adapter_settings(self, **extra) -> dict:
        return {"host": self.host, "port": self.server.port, "security": "none", "mailbox": "INBOX", **extra}

    def adapter_credentials(self) -> dict:
        return {"username": self.username, "password": self.password}


class DovecotServer:
    def __init__(self, root: Path | None = None):
        self.root = root or Path(tempfile.mkdtemp(prefix="aicmo-dovecot-"))
        self.port = 0
        self.tls_port = 0
        self.certificate: SelfSignedCertificate | None = None
        self.process: subprocess.Popen | None = None
        self._numbers = itertools.count(1)

    def _users(self) -> dict[str, str]:
        if os.geteuid() != 0:
            me = pwd.getpwuid(os.getuid())
            return {"login_user": me.pw_name, "internal_user": me.pw_name, "internal_group": me.pw_name,
                    "mail_uid": str(me.pw_uid), "mail_gid": str(me.pw_gid)}
        # As root, Dovecot refuses root for login processes and mail access: use its own users, and
        # "nobody" for the maildirs.
        nobody = pwd.getpwnam("nobody")
        return {"login_user": "dovenull", "internal_user": "dovecot", "internal_group": "dovecot",
                "mail_uid": str(nobody.pw_uid), "mail_gid": str(nobody.pw_gid)}

    def start(self) -> DovecotServer:
        if not os.access(DOVECOT, os.X_OK):
            raise RuntimeError(f"{DOVECOT} not found: install dovecot-imapd (make system-deps).")
        self.root.chmod(0o755)  # the mail processes run as another user and must reach their maildir
        for folder in ("run", "state", "mail"):
            (self.root / folder).mkdir(exist_ok=True)
        users = self._users()
        os.chown(self.root / "mail", int(users["mail_uid"]), int(users["mail_gid"]))
        # One passwd-file per user: Dovecot then sees a new user at once, without noticing a change
        # to a shared file that may fall within the same second as the previous change.
        (self.root / "users").mkdir(exist_ok=True)
        self.certificate = make_certificate(self.root / "tls")
        config = self.root / "dovecot.conf"
        for _attempt in range(3):
            self.port, self.tls_port = free_port(), free_port()
            config.write_text(_CONFIG.format(root=self.root, port=self.port, tls_port=self.tls_port,
                                             cert=self.certificate.cert_file, key=self.certificate.key_file,
                                             **users))
            self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=True)
            if self._wait_until_listening():
                return self
            # Dovecot exits when another process took a port between free_port() and its bind.
        raise RuntimeError(f"dovecot exited with {self.process.returncode}:\n{self.log()}")

    def _wait_until_listening(self, timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    if b"Dovecot" in probe.recv(256):
                        return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on 127.0.0.1:{self.port} within {timeout}s:\n{self.log()}")

    def doveadm(self, *args: str) -> str:
        done = subprocess.run([DOVEADM, "-c", str(self.root / "dovecot.conf"), *args], capture_output=True,
                              text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def new_account(self) -> ImapAccount:
        username, password = f"reader{next(self._numbers)}", secrets.token_urlsafe(12)
        entry = self.root / "users" / username
        entry.write_text(f"{username}:{{PLAIN}}{password}\n")
        entry.chmod(0o644)
        return ImapAccount(server=self, username=username, password=password)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
