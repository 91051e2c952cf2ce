"""Airtable Web API upsert (PROVIDERS.md §3): batches of 10 merged on one field, paced to 5 requests/s."""

from __future__ import annotations

from urllib.parse import quote

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import CrmSyncAdapter, SyncRecord, SyncResult, register
from gateways.errors import ProviderRejected

BATCH_SIZE = 10  # records per create/update/upsert request
REQUESTS_PER_SECOND = 5  # per base; past it Airtable answers 429 and refuses calls for about 30 s


@register
class AirtableSyncAdapter(HttpAdapterMixin, CrmSyncAdapter):
    key = "airtable"
    label = "Airtable"
    max_batch = BATCH_SIZE
    parameters = ("base_id", "table", "merge_field")
    secret_parameters = ("token",)
    default_base_url = "https://api.airtable.com/v0"
    default_rate_limit = (REQUESTS_PER_SECOND, 1.0)
    min_interval = 1.0 / REQUESTS_PER_SECOND
    credentials_advice = ("Airtable answers {status}: the personal access token is wrong, expired or has no "
                          "access to this base and table; update it in Provider accounts.")

    def http_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('token')}", "Content-Type": "application/json"}

    def table_url(self) -> str:
        return self.url(f"/{quote(self.setting('base_id'), safe='')}/{quote(self.setting('table'), safe='')}")

    def merge_field(self) -> str:
        return str(self.settings.get("merge_field") or "Email")

    def upsert(self, records: list[SyncRecord]) -> SyncResult:
        """A batch Airtable refuses (a bad value, a merge value matching two rows) is reported per key and
        the other batches still go; an unavailable Airtable stops the call (upserting again is harmless)."""
        merge_field = self.merge_field()
        result = SyncResult(created=0, updated=0)
        for start in range(0, len(records), BATCH_SIZE):
            batch = records[start:start + BATCH_SIZE]
            body = {
                "records": [{"fields": {**record.fields, merge_field: record.key}} for record in batch],
                "performUpsert": {"fieldsToMergeOn": [merge_field]},
            }
            try:
                answer = self.http.request_json("PATCH", self.table_url(), idempotent=True, json=body)
            except ProviderRejected as exc:
                result.failed.extend((record.key, exc.message) for record in batch)
                continue
            result.written += len(answer.get("records") or [])
            result.created += len(answer.get("createdRecords") or [])
            result.updated += len(answer.get("updatedRecords") or [])
        return result

    def probe(self):
        def list_one() -> str:
            self.http.request("GET", self.table_url(), params={"pageSize": 1})
            return f"table {self.setting('table')} readable"

        return self.timed_probe(list_one)
