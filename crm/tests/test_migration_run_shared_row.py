"""crm 0013: every import and enrichment run made before the shared run table gets its row, with its
status, times, figures and who asked; undone, the rows go and the crm runs stay."""

from datetime import UTC, datetime

BEFORE = [("crm", "0012_segment_entries"), ("aicmo_site", "0004_background_run")]
AFTER = [("crm", "0013_run_shared_row")]
LONG_AGO = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_existing_runs_get_their_shared_rows_and_keep_their_history(migrator_from_empty):
    apps = migrator_from_empty(BEFORE)
    user = apps.get_model("auth", "User").objects.create(username="ann")
    ImportRun, EnrichmentRun = apps.get_model("crm", "ImportRun"), apps.get_model("crm", "EnrichmentRun")
    done = ImportRun.objects.create(file="crm/imports/a.csv", original_name="leads.csv", status="completed",
                                    requested_by=user, total_rows=10, processed_rows=10, created_count=7,
                                    updated_count=2, failed_count=1, started_at=LONG_AGO, finished_at=LONG_AGO)
    waiting = ImportRun.objects.create(file="crm/imports/b.csv", original_name="later.csv", total_rows=5)
    enrichment = EnrichmentRun.objects.create(scope={"segment_id": 3, "segment": "Founders"}, status="failed",
                                              total=4, queued=1, verified=3, error="No provider answered.")
    ImportRun.objects.filter(pk=done.pk).update(created_at=LONG_AGO)

    apps = migrator_from_empty(AFTER)

    BackgroundRun = apps.get_model("aicmo_site", "BackgroundRun")
    ImportRun, EnrichmentRun = apps.get_model("crm", "ImportRun"), apps.get_model("crm", "EnrichmentRun")
    row = BackgroundRun.objects.get(pk=ImportRun.objects.get(pk=done.pk).run_id)
    assert (row.kind, row.label, row.status, row.requested_by_id, row.done, row.total, row.created_at,
            row.finished_at, row.link) == ("import", "Import of leads.csv", "completed", user.pk, 10, 10, LONG_AGO,
                                           LONG_AGO, f"/contacts/imports/{done.pk}/")
    assert row.result == {"created": 7, "updated": 2, "skipped": 0, "failed": 1}
    assert BackgroundRun.objects.get(pk=ImportRun.objects.get(pk=waiting.pk).run_id).status == "queued"
    shared = BackgroundRun.objects.get(pk=EnrichmentRun.objects.get(pk=enrichment.pk).run_id)
    assert (shared.kind, shared.label, shared.status, shared.error, shared.done, shared.total) == (
        "enrichment", "Enrichment of segment Founders", "failed", "No provider answered.", 3, 4)
    assert BackgroundRun.objects.count() == 3

    apps = migrator_from_empty(BEFORE)

    assert apps.get_model("aicmo_site", "BackgroundRun").objects.count() == 0
    assert apps.get_model("crm", "ImportRun").objects.count() == 2
