"""Sending a batch of emails over one connection, failing over only when it is safe."""

import time
from functools import partial

from gateways import conf, health, ratelimit
from gateways.capabilities import Capability, EmailSession, OutgoingEmail, SendReceipt
from gateways.chain import call_account, enabled_accounts, run_recorded
from gateways.errors import (
    BudgetSpent,
    GatewayError,
    NoProviderAvailable,
    NoProviderConfigured,
    OutcomeUnknown,
    ProviderSkipped,
    ProviderUnavailable,
    RateLimited,
)
from gateways.models import ProviderAccount
from gateways.send_steps import SendSteps, run_steps


class FailoverEmailSession:
    """One open connection to the first sending account that works, reused for every message.

    A ProviderUnavailable from the adapter means the message was not accepted (the connection
    failed before DATA was taken), so the same message goes to the next account and `failovers`
    counts it; a temporary refusal of one message on a still-usable connection (details
    "session_usable") is raised to the caller instead, and the account keeps the batch.
    OutcomeUnknown means it may have been accepted: it is raised, never retried elsewhere; the
    next message opens a fresh connection to the same account.
    """

    def __init__(self):
        self._accounts: list[ProviderAccount] = enabled_accounts(Capability.EMAIL_SENDING)
        self._position = 0
        self._session: EmailSession | None = None
        self.failovers = 0
        self.attempts: list[tuple[str, str]] = []
        self._errors: list[GatewayError] = []
        # One health write per second per account instead of one per message sent.
        self._successes: dict[int, health.DeferredSuccesses] = {}

    def _successes_of(self, account: ProviderAccount) -> health.DeferredSuccesses:
        if account.pk not in self._successes:
            self._successes[account.pk] = health.DeferredSuccesses(account.pk)
        return self._successes[account.pk]

    @property
    def account(self) -> ProviderAccount | None:
        return self._accounts[self._position] if self._position < len(self._accounts) else None

    @property
    def provider(self) -> str:
        return self.account.name if self.account else ""

    def __enter__(self) -> "FailoverEmailSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for successes in self._successes.values():
            successes.flush()
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except GatewayError:
                pass  # the messages were already accepted or refused; a failing QUIT changes nothing

    def _give_up_on_current(self, error: GatewayError) -> None:
        self.close()
        self.attempts.append((self.provider, error.message))
        self._errors.append(error)
        self._position += 1

    def _connect(self) -> EmailSession:
        while self._session is None:
            account = self.account
            if account is None:
                summary = "; ".join(f"{name}: {message}" for name, message in self.attempts)
                spent = [error for error in self._errors if isinstance(error, BudgetSpent)]
                if spent:
                    # A used-up quota comes back by itself: the send waits for it rather than pausing
                    # as if no provider were set up.
                    raise NoProviderAvailable(f"Every email sending account is at its quota ({summary})",
                                              attempts=self._errors,
                                              retry_after=min(error.retry_after or 0 for error in spent) or None)
                if self._errors and all(isinstance(error, ProviderSkipped) for error in self._errors):
                    skipped = self._errors[0]
                    raise NoProviderConfigured(skipped.message, provider=skipped.provider, advice=skipped.advice)
                raise NoProviderAvailable(f"No email sending provider could take the message ({summary})",
                                          attempts=self._errors)
            admission = health.admit(health.health_row(account.pk))
            if not admission.allowed:
                self._give_up_on_current(ProviderUnavailable(admission.reason, provider=account.name))
                continue
            try:
                self._session = call_account(account, lambda adapter: adapter.open())
            except ProviderUnavailable as exc:
                self._give_up_on_current(exc)
            except ProviderSkipped as exc:
                # A placeholder ranked above a real account must not hide it.
                self._give_up_on_current(exc)
        return self._session

    def send(self, message: OutgoingEmail) -> SendReceipt:
        return run_steps(self.send_steps(message))

    def send_steps(self, message: OutgoingEmail) -> SendSteps[SendReceipt]:
        """send() in steps (gateways.send_steps), passing on the adapter session's. After a failover the
        same message may reach BEFORE_END again, on the next account."""
        if not self._accounts:
            raise NoProviderConfigured(health.NO_PROVIDER_REASON)
        while True:
            session = self._connect()
            account = self.account
            waited = ratelimit.take_token(account.pk, account.rate_limit, max_wait=conf.rate_limit_max_wait_seconds())
            if waited is None:
                self._give_up_on_current(RateLimited("sending rate limit reached", provider=account.name))
                self.failovers += 1
                continue
            try:
                return (yield from self._recorded_steps(account, session.send_steps(message),
                                                        self._successes_of(account)))
            except ProviderUnavailable as exc:
                if exc.details.get("session_usable"):
                    # This one message was refused for now (454, greylisting) on a connection that
                    # still works: the caller retries it later, and the account keeps the batch.
                    raise
                self._give_up_on_current(exc)
                self.failovers += 1
            except ProviderSkipped as exc:
                # Refused before any request (the account's daily quota is used up): nothing was sent,
                # so the message goes to the next account, and the account's health is left alone.
                self._give_up_on_current(exc)
                self.failovers += 1
            except OutcomeUnknown:
                self.close()
                raise

    @staticmethod
    def _recorded_steps(account: ProviderAccount, steps: SendSteps[SendReceipt],
                        successes: health.DeferredSuccesses) -> SendSteps[SendReceipt]:
        """run_recorded() over steps: the chain records and classifies a failure exactly as for a plain
        send, and both outcomes count the send's whole time, waits included."""
        started = time.monotonic()
        try:
            receipt = yield from steps
        except Exception as exc:  # noqa: BLE001 - run_recorded records, classifies and raises it
            run_recorded(account, partial(_raise, exc), successes=successes, started=started)
            raise  # not reached: run_recorded raises
        successes.add((time.monotonic() - started) * 1000)
        return receipt


def _raise(error: Exception):
    raise error


def open_email_session() -> FailoverEmailSession:
    """with open_email_session() as session: session.send(OutgoingEmail(...)) -> SendReceipt."""
    return FailoverEmailSession()
