"""What a test database's flush (after each transactional test) puts back at once: the content types, the
permissions, the roles and their permissions, as migrate left them when the test database was created.

A flush empties every table and then runs the post_migrate handlers again, which made those rows anew one
app at a time: 205 queries after each of the suite's transactional tests. Copied back from a snapshot in
the flush's own transaction, the handlers find them in place and write nothing (82 queries). The rows are
the same after every flush (a test's extra permission or group goes, a role's changed permissions come back)
and so are their ids. Used by the test backends, aicmo_site.testing.postgresql and .sqlite3."""

from django.apps import apps


def _tables() -> list[str]:
    """In the order their foreign keys need them."""
    group = apps.get_model("auth", "Group")
    return [apps.get_model("contenttypes", "ContentType")._meta.db_table,
            apps.get_model("auth", "Permission")._meta.db_table, group._meta.db_table,
            group.permissions.through._meta.db_table]


def _copy(table: str) -> str:
    return f"aicmo_test_kept_{table}"


class KeptRowsCreation:
    """A test backend's DatabaseCreation (before Django's in its bases): once the test database is migrated
    and its post_migrate handlers have run, the rows are copied aside."""

    def create_test_db(self, *args, **kwargs):
        name = super().create_test_db(*args, **kwargs)
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for table in _tables():
                cursor.execute(f"DROP TABLE IF EXISTS {quote(_copy(table))}")
                cursor.execute(f"CREATE TABLE {quote(_copy(table))} AS SELECT * FROM {quote(table)}")  # noqa: S608
        return name


def kept_rows_restore_sql(ops, style, flushed: list[str]) -> list[str]:
    """Statements that follow a flush's deletes, in its transaction (foreign keys checked at its commit)."""
    quote = ops.quote_name
    return [f"{style.SQL_KEYWORD('INSERT INTO')} {style.SQL_FIELD(quote(table))} "
            f"{style.SQL_KEYWORD('SELECT')} * {style.SQL_KEYWORD('FROM')} {style.SQL_FIELD(quote(_copy(table)))};"
            for table in _tables() if table in flushed]
