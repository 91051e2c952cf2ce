"""SQLite for the test suite: Django's backend, except that a test database can be made from a template
file (DATABASES' TEST "TEMPLATE", as PostgreSQL's CREATE DATABASE ... TEMPLATE), so that pytest-xdist's
workers copy the run's migrated database instead of each running the migrations (aicmo_site.testing.template_db),
and that a flush copies the content types, permissions and roles back as migrate left them
(aicmo_site.testing.kept_rows)."""

import shutil

from django.db.backends.sqlite3 import base, creation, operations

from aicmo_site.testing.kept_rows import KeptRowsCreation, kept_rows_restore_sql


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if not tables or reset_sequences or allow_cascade:
            return statements
        return statements + kept_rows_restore_sql(self, style, tables)


class DatabaseCreation(KeptRowsCreation, creation.DatabaseCreation):
    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        name = super()._create_test_db(verbosity, autoclobber, keepdb)
        template = self.connection.settings_dict["TEST"].get("TEMPLATE")
        if template and not keepdb and not self.is_in_memory_db(name):
            shutil.copyfile(template, name)
        return name


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    creation_class = DatabaseCreation
