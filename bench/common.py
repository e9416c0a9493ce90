"""What the benchmark scripts share: the environment they run the app with, and their
scratch PostgreSQL database. Scripts import it as `common` (their folder is on sys.path when
run as `.venv/bin/python bench/<name>.py`)."""

from __future__ import annotations

import os


def bench_env(database_url: str, **overrides: str) -> dict[str, str]:
    """Production-like settings (DEBUG off, no rate limits, quiet logs) on `database_url`."""
    return (
        dict(os.environ)
        | {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "SECURE_SSL_REDIRECT": "0",
            "RATELIMIT_ENABLE": "0",
            "LOG_LEVEL": "warning",
            "EMAIL_URL": "console:",
        }
        | overrides
    )


def create_database(database_url: str) -> None:
    """CREATE DATABASE when it does not exist yet (through the server's `postgres` database)."""
    import psycopg
    from psycopg import sql

    server, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def recreate_database(database_url: str) -> None:
    """DROP (if there) and CREATE the scratch database: a run that writes much must not
    measure the rows and dead tuples earlier runs left behind."""
    import psycopg
    from psycopg import sql

    server, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
