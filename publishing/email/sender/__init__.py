"""The send loop (batch): workers claim deliveries from the database and send them, marking each
delivery's progress as they go (marks)."""

from publishing.email.sender.batch import claim_batch, worker_run

__all__ = ["claim_batch", "worker_run"]
