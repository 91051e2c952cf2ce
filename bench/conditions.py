"""What every benchmark prints about where it ran, so figures can be compared honestly."""

import os
import platform
import resource


def setup_django(settings_module: str = "aicmo_site.settings.base"):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def describe(**extra) -> str:
    from django.db import connection

    parts = {
        "database": f"{connection.vendor} {connection.settings_dict['NAME']}",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        **extra,
    }
    return "conditions: " + ", ".join(f"{k}={v}" for k, v in parts.items())


def peak_rss_mb(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024
