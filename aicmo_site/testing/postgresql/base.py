"""PostgreSQL for the test suite: Django's backend, except that a flush (after each transactional test)
deletes the rows instead of truncating the tables. TRUNCATE gives each of the 130 tables and their
indexes new files and syncs them at commit, a fixed cost of seconds however few rows a test wrote;
DELETE costs what the rows cost, and a test writes few. The content types, permissions and roles are then
copied back as migrate left them (aicmo_site.testing.kept_rows)."""

from django.db.backends.postgresql import base, creation, operations

from aicmo_site.testing.kept_rows import KeptRowsCreation, kept_rows_restore_sql


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        # A sequence reset is TRUNCATE's (RESTART IDENTITY), and CASCADE reaches tables outside the list.
        if not tables or reset_sequences or allow_cascade:
            return super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        # One transaction (execute_sql_flush): with the foreign keys checked at its commit, the order of the
        # deletes and of the rows copied back does not matter.
        return [f"{style.SQL_KEYWORD('SET CONSTRAINTS ALL DEFERRED')};"] + [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables
        ] + kept_rows_restore_sql(self, style, tables)


class DatabaseCreation(KeptRowsCreation, creation.DatabaseCreation):
    pass


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    creation_class = DatabaseCreation
