"""SQLite for the test suite: Django's backend, except that a test database can be made from a template
file (DATABASES' TEST "TEMPLATE", as PostgreSQL's CREATE DATABASE ... TEMPLATE), so that pytest-xdist's
workers copy the run's migrated database instead of each running the migrations (aicmo_site.testing.template_db)."""

import shutil

from django.db.backends.sqlite3 import base, creation


class DatabaseCreation(creation.DatabaseCreation):
    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        name = super()._create_test_db(verbosity, autoclobber, keepdb)
        template = self.connection.settings_dict["TEST"].get("TEMPLATE")
        if template and not keepdb and not self.is_in_memory_db(name):
            shutil.copyfile(template, name)
        return name


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
