"""The send loop: workers claim deliveries from the database, never from the queue.

Exactly once, as far as SMTP allows:
- A claim is a lease (lease_owner, lease_expires_at) taken with SELECT … FOR UPDATE SKIP LOCKED on
  PostgreSQL; on SQLite the claiming transaction holds the write lock (IMMEDIATE), and the UPDATE
  repeats every condition, so two workers never hold the same delivery.
- A worker sends over EMAIL_CONNECTIONS_PER_WORKER SMTP connections (batch._BatchSend). Each message is
  written up to just before its end while its delivery is only claimed; then, one group at a time (the
  messages ready then, at most EMAIL_STARTS_PER_COMMIT, at most one per connection), their "sending"
  marks are committed, their ends written and the server's answers read, and the answers are committed
  together with the next group's "sending" marks. The window in which the outcome cannot be known is
  therefore one group per worker, whatever the batch size, and a worker killed at any point leaves at
  most EMAIL_STARTS_PER_COMMIT outcomes unknown (1: one message at a time, one commit per message).
  The other connections' commands and content go out while a group waits for its answers
  (gateways.send_steps), without threads.
- A delivery found "sending" past its lease was maybe accepted by the server before its worker died:
  it becomes outcome_unknown and is never sent again (services.campaigns.leases_recover).
- Messages are rendered before the connection opens, so no template or database work stretches the
  window either.
- A pause or a cancel takes effect before the next message of every worker: the "sending" mark
  starts a delivery only while its send is "sending", in the same statement (marks),
  and a refused start makes the worker look at the send's status and stop.
- EMAIL_SYNCHRONOUS_COMMIT=0 (PostgreSQL) turns synchronous_commit off for the worker's connection
  while it sends: a commit then returns once its WAL record is in the server, not yet on disk. A
  killed worker loses nothing (the server commits what it received); a crash of PostgreSQL itself may
  lose the marks of the last fraction of a second (up to 3 × wal_writer_delay), and a message whose
  "sending" was lost is sent again. Hence on by default.
"""

from publishing.email.sender.claiming import claim_batch
from publishing.email.sender.worker import worker_run

__all__ = ["claim_batch", "worker_run"]
