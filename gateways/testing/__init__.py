"""Real mail servers and real messages for tests (aiosmtpd, Dovecot), usable from any app's tests:
load `gateways.testing.mailservers` as a pytest plugin."""
