"""CSV import of contacts: mapping, reading, validating, merging, the ORM and COPY paths, the run."""

from crm.imports.run import (
    IMPORT_RUN_TRANSITIONS,
    import_preview,
    import_run_cancel,
    import_run_create,
    import_run_execute,
    import_run_start,
    import_run_transition,
    import_runs_resume,
)

__all__ = ["IMPORT_RUN_TRANSITIONS", "import_preview", "import_run_cancel", "import_run_create",
           "import_run_execute", "import_run_start", "import_run_transition",
           "import_runs_resume"]
