"""The base of the project's commands: every change a command makes is logged as that command's."""

from django.core.management.base import BaseCommand

from aicmo_site.audit import AuditSource, audit_source


class AuditedCommand(BaseCommand):
    def execute(self, *args, **options):
        with audit_source(AuditSource.COMMAND, self.__module__.rsplit(".", 1)[-1]):
            return super().execute(*args, **options)
