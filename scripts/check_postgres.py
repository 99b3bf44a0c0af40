"""Fail loudly, in one line, when the test database server is not reachable."""

import os
import sys

import environ
import psycopg

url = os.environ["DATABASE_URL"]
config = environ.Env.db_url_config(url)
if config["ENGINE"] != "django.db.backends.postgresql":
    sys.exit(f"make test needs PostgreSQL, but DATABASE_URL points at {config['ENGINE']}")
try:
    psycopg.connect(
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        dbname="postgres",
        connect_timeout=5,
    ).close()
except psycopg.OperationalError as error:
    first_line = str(error).strip().splitlines()[0]
    hint = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
    sys.exit(f"PostgreSQL is not reachable at {config.get('HOST')}:{config.get('PORT')} ({first_line}); {hint}")
print(f"PostgreSQL reachable at {config.get('HOST')}:{config.get('PORT')}")
