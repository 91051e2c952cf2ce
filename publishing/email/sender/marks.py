"""The send loop's marks: the last group's "sent" and the next group's "sending", in one autocommitted
statement. Written with the ORM, the UPDATEs, their transaction and building them took half of a worker's
time (py-spy), and with synchronous_commit each commit waits for the disk, so one commit per group (up
to EMAIL_STARTS_PER_COMMIT messages), not two per message. Each row keeps the conditions of
sending._mine: this worker's lease, and "queued" to start, "sending" (or recovered as unknown) to record.
RETURNING says which starts happened.

A start also needs its send to be "sending", read in the same statement: that is what makes a pause
take effect before the next message of every worker. A pause commits either before the statement
(which then sees it and starts nothing) or after it (the message started before the pause). On
PostgreSQL the statement's snapshot may predate a pause that commits while it runs; the pause
therefore also rewrites every queued delivery of the send (services.campaigns.email_campaign_pause),
so the statement waits on that row lock and then finds the lease gone.

The commit is the one wait a worker cannot share out (the end of a message may not be written before
it), and it was half of a worker's time. So on PostgreSQL, outside a transaction, a worker's marks go over
a connection of their own (WorkerMarks), as a statement prepared once per shape and sent without waiting
for the answer: the worker writes its other connections' messages meanwhile and reads the answer just
before it writes the end.
"""

from __future__ import annotations

import select
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from psycopg import pq

from publishing.email import conf
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailCampaign, EmailDelivery


@lru_cache(maxsize=64)
def _marks_sql(table: str, sends_table: str, starts: int, records: int) -> str:
    def ids(count: int) -> str:
        return f"id IN ({', '.join(['%s'] * count)})" if count else "FALSE"

    def per_row(count: int, otherwise: str) -> str:
        return f"CASE id {' '.join(['WHEN %s THEN %s'] * count)} ELSE {otherwise} END" if count else otherwise

    started = ids(starts)
    return f"""UPDATE {table} SET
  status = CASE WHEN {started} THEN %s ELSE %s END,
  attempts = CASE WHEN {started} THEN attempts + 1 ELSE attempts END,
  message_id = {per_row(starts + records, "message_id")},
  provider = {per_row(records, "provider")},
  provider_response = {per_row(records, "provider_response")},
  sent_at = {per_row(records, "sent_at")},
  error = CASE WHEN {started} THEN error ELSE '' END,
  failover_note = {per_row(records, "failover_note")},
  lease_owner = CASE WHEN {started} THEN lease_owner ELSE '' END,
  lease_expires_at = CASE WHEN {started} THEN %s ELSE NULL END
WHERE lease_owner = %s AND (
  ({started} AND status = %s
   AND EXISTS (SELECT 1 FROM {sends_table} email_send
               WHERE email_send.campaign_id = {table}.campaign_id AND email_send.status = %s))
  OR ({ids(records)} AND status IN (%s, %s)))
RETURNING id"""


def _statement(pending: list, starts: list, owner: str) -> tuple[str, list, set[int]] | None:
    """The marks of `starts` ((delivery, message) pairs) and of the successes in `pending` (taken out of it):
    SQL, parameters and the ids to start; None when there is nothing to write."""
    records, pending[:] = list(pending), []
    if not starts and not records:
        return None
    ops = connection.ops
    start_ids = [delivery.pk for delivery, _message in starts]
    record_ids = [delivery_id for delivery_id, _fields in records]
    lease_expires_at = ops.adapt_datetimefield_value(timezone.now() + timedelta(seconds=conf.lease_seconds()))

    def per_row(name: str) -> list:
        return [value for delivery_id, fields in records for value in (
            delivery_id, ops.adapt_datetimefield_value(fields[name]) if name == "sent_at" else fields[name])]

    message_ids = [value for delivery, message in starts for value in (delivery.pk, message.message_id)]
    params = [
        *start_ids, DeliveryStatus.SENDING.value, DeliveryStatus.SENT.value,
        *start_ids,
        *message_ids, *per_row("message_id"),
        *per_row("provider"), *per_row("provider_response"), *per_row("sent_at"),
        *start_ids,
        *per_row("failover_note"),
        *start_ids,
        *start_ids, lease_expires_at,
        owner, *start_ids, DeliveryStatus.QUEUED.value, SendStatus.SENDING.value,
        *record_ids, DeliveryStatus.SENDING.value, DeliveryStatus.OUTCOME_UNKNOWN.value,
    ]
    sql = _marks_sql(ops.quote_name(EmailDelivery._meta.db_table), ops.quote_name(EmailCampaign._meta.db_table),
                     len(start_ids), len(record_ids))
    return sql, params, set(start_ids)


def record_and_start(pending: list, starts: list, owner: str) -> set[int]:
    """Committed before the SMTP transactions of `starts`: from here on none of them is sent again blindly,
    and the successes in `pending` (taken out of it) are recorded. The ids that started: a delivery is
    left out when its claim was lost (paused, or expired and taken by another worker)."""
    statement = _statement(pending, starts, owner)
    if statement is None:
        return set()
    sql, params, start_ids = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()} & start_ids


def _type_of(value) -> int:
    """The parameter's PostgreSQL type (timestamptz, int8, text), named when the statement is prepared."""
    return 1184 if isinstance(value, datetime) else 20 if isinstance(value, int) else 25


def _numbered(sql: str) -> str:
    """%s placeholders as $1, $2, ... (the statement has no other %)."""
    parts = sql.split("%s")
    return "".join(part + (f"${number}" if number < len(parts) else "") for number, part in enumerate(parts, 1))


def _text(value) -> bytes:
    return (value.isoformat() if isinstance(value, datetime) else str(value)).encode()


class WorkerMarks:
    """One worker's marks: send() writes them, wait() says which starts happened. On PostgreSQL outside a
    transaction they go over the worker's own connection without waiting (see the module's docstring);
    otherwise (SQLite, or a test's transaction, which another connection could not see) send() writes
    them at once on the worker's connection."""

    def __init__(self, *, synchronous_commit: bool = True):
        self._synchronous_commit = synchronous_commit
        self._own = None  # the psycopg connection of the marks, opened on first use
        self._prepared: dict[str, bytes] = {}  # statement -> its name on that connection
        self._sent: tuple[set[int], set[int] | None] | None = None  # (ids to start, the answer when known)

    def write(self, pending: list, starts: list, owner: str) -> set[int]:
        self.send(pending, starts, owner)
        return self.wait()

    def send(self, pending: list, starts: list, owner: str) -> None:
        if self._sent is not None:
            self.wait()  # one statement at a time on the connection; its answer was not needed any more
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            self._sent = (set(), record_and_start(pending, starts, owner))
            return
        statement = _statement(pending, starts, owner)
        if statement is None:
            self._sent = (set(), set())
            return
        sql, params, start_ids = statement
        pgconn = self._connection().pgconn
        if settings.DATABASE_TRANSACTION_POOLING:
            # A prepared statement lives in one server session, which a pooler in transaction mode shares out.
            pgconn.send_query_params(_numbered(sql).encode(), [_text(value) for value in params],
                                     [_type_of(value) for value in params])
            self._flush()
            self._sent = (start_ids, None)
            return
        name = self._prepared.get(sql)
        if name is None:
            # Prepared once per shape: parsing and planning the statement for every message was on the path
            # between one message's answer and the next one's end.
            name = f"aicmo_marks_{len(self._prepared)}".encode()
            pgconn.send_prepare(name, _numbered(sql).encode(), [_type_of(value) for value in params])
            self._flush()
            self._answer(pq.ExecStatus.COMMAND_OK)
            self._prepared[sql] = name
        pgconn.send_query_prepared(name, [_text(value) for value in params])
        self._flush()
        self._sent = (start_ids, None)

    def wait(self) -> set[int]:
        start_ids, answer = self._sent
        self._sent = None
        if answer is not None:
            return answer
        result = self._answer(pq.ExecStatus.TUPLES_OK)
        return {int(result.get_value(row, 0)) for row in range(result.ntuples)} & start_ids

    def _flush(self) -> None:
        pgconn = self._own.pgconn
        while pgconn.flush():
            select.select([], [pgconn.socket], [])

    def _answer(self, expected):
        pgconn, results = self._own.pgconn, []
        while True:
            pgconn.consume_input()
            if pgconn.is_busy():
                select.select([pgconn.socket], [], [])
                continue
            result = pgconn.get_result()
            if result is None:
                break
            results.append(result)
        if not results or results[-1].status != expected:
            message = results[-1].error_message.decode(errors="replace") if results else "no answer"
            self.close()
            raise DatabaseError(f"Recording sends failed: {message}")
        return results[-1]

    def _connection(self):
        if self._own is None:
            self._own = connection.get_new_connection(connection.get_connection_params())
            self._own.autocommit = True
            if not self._synchronous_commit:
                self._own.execute("SET synchronous_commit = off")
        return self._own

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None
            self._prepared.clear()
