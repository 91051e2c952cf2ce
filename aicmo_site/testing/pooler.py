"""PgBouncer's admin console, for a test run whose DATABASE_URL points at it (scripts/pgbouncer.sh)."""

import psycopg


def pooler_close_connections(database: dict) -> None:
    """Closes the pooler's connections to `database` (its KILL command), so PostgreSQL can drop it."""
    with psycopg.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                         dbname="pgbouncer", autocommit=True) as console:
        console.execute(f'KILL "{database["NAME"]}"')
