"""The production switch (`DJANGO_PRODUCTION=true`, set by `make serve`): what it refuses and what it sets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgres://postgres@127.0.0.1:5432/debate"
SECRET = "x7PqL2vN9sR4tY6wZ8bC1dF3gH5jK0mQ-uE_aI2oU4eY6rT8wQ1zX3cV5bN7mL9k"

SHOW = """
import json
from config import settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "cache": s.CACHES["default"]["BACKEND"],
    "sessions": s.SESSION_ENGINE,
    "conn_max_age": s.DATABASES["default"]["CONN_MAX_AGE"],
    "health_checks": s.DATABASES["default"]["CONN_HEALTH_CHECKS"],
    "static": s.STORAGES["staticfiles"]["BACKEND"],
    "static_root": s.STATIC_ROOT,
    "ssl_redirect": getattr(s, "SECURE_SSL_REDIRECT", False),
    "secure_cookies": getattr(s, "SESSION_COOKIE_SECURE", False),
    "prepared_after": s.DATABASES["default"].get("OPTIONS", {}).get("prepare_threshold"),
}))
"""


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "REDIS_"))}
    environment.pop("DATABASE_URL", None)
    environment.pop("CONN_MAX_AGE", None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**environment, **env}, capture_output=True, text=True, timeout=120
    )


def settings_with(**env: str) -> dict[str, object]:
    result = run(SHOW, **env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_SECRET_KEY": SECRET}, "production needs DATABASE_URL pointing at PostgreSQL"),
        (
            {"DJANGO_SECRET_KEY": SECRET, "DATABASE_URL": "sqlite:///var/x.sqlite3"},
            "production runs on PostgreSQL only",
        ),
        ({"DATABASE_URL": POSTGRES}, "production needs DJANGO_SECRET_KEY"),
        ({"DATABASE_URL": POSTGRES, "DJANGO_SECRET_KEY": SECRET, "DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be off"),
    ],
)
def test_production_refuses_to_start_without_what_it_needs(env: dict[str, str], message: str) -> None:
    result = run(SHOW, DJANGO_PRODUCTION="true", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_keeps_no_state_in_the_process_and_reuses_connections() -> None:
    production = settings_with(DJANGO_PRODUCTION="true", DATABASE_URL=POSTGRES, DJANGO_SECRET_KEY=SECRET)
    assert production == {
        "debug": False,
        "cache": "django.core.cache.backends.db.DatabaseCache",
        "sessions": "django.contrib.sessions.backends.db",
        "conn_max_age": 600,
        "health_checks": True,
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "static_root": str(ROOT / "var" / "static"),
        "ssl_redirect": True,
        "secure_cookies": True,
        "prepared_after": 5,
    }
    with_redis = settings_with(
        DJANGO_PRODUCTION="true",
        DATABASE_URL=POSTGRES,
        DJANGO_SECRET_KEY=SECRET,
        REDIS_URL="redis://127.0.0.1:6379/0",
        CONN_MAX_AGE="60",
    )
    assert with_redis["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert with_redis["conn_max_age"] == 60
    development = settings_with()
    assert development["conn_max_age"] == 0
    assert development["static_root"] is None
    assert development["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert development["prepared_after"] is None


def test_deployment_checks_pass_with_production_settings() -> None:
    result = run(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        DJANGO_PRODUCTION="true",
        DATABASE_URL=POSTGRES,
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "make serve needs DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:///var/db.sqlite3"}, "make serve runs on PostgreSQL only"),
        ({"DATABASE_URL": POSTGRES}, "make serve needs DJANGO_SECRET_KEY"),
    ],
)
def test_make_serve_refuses_clearly(env: dict[str, str], message: str) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    result = subprocess.run(
        ["make", "--no-print-directory", "serve"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert message in result.stderr


CHECK_AND_SAY = (
    "import django; django.setup(); from django.conf import settings; "
    "print(sorted(settings.SWITCHED_OFF.values())); from django.core.management import call_command; "
    "call_command('check', deploy=True, fail_level='WARNING')"
)


@pytest.mark.parametrize(
    ("switches", "said"),
    [
        (
            {"DJANGO_SECURE_SSL_REDIRECT": "false"},
            ["DJANGO_SECURE_SSL_REDIRECT=false: plain HTTP is not redirected to HTTPS"],
        ),
        ({"DJANGO_HSTS_SECONDS": "0"}, ["DJANGO_HSTS_SECONDS=0: no Strict-Transport-Security header"]),
        (
            {"DJANGO_HSTS_INCLUDE_SUBDOMAINS": "false", "DJANGO_HSTS_PRELOAD": "false"},
            [
                "DJANGO_HSTS_INCLUDE_SUBDOMAINS=false: HSTS leaves subdomains out",
                "DJANGO_HSTS_PRELOAD=false: HSTS without preload",
            ],
        ),
    ],
    ids=["no-ssl-redirect", "no-hsts", "hsts-narrowed"],
)
def test_a_documented_switch_passes_the_deployment_checks_and_says_what_it_turns_off(
    switches: dict[str, str], said: list[str]
) -> None:
    result = run(
        CHECK_AND_SAY,
        DJANGO_PRODUCTION="true",
        DATABASE_URL=POSTGRES,
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_SETTINGS_MODULE="config.settings",
        **switches,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == repr(said)
    assert f"({len(said)} silenced)" in result.stdout


def test_prepare_serve_says_what_the_switches_turn_off_before_checking() -> None:
    script = (ROOT / "scripts" / "prepare_serve.py").read_text()
    assert script.index("Turned off by its switch") < script.index('call_command("check"')


def test_web_processes_never_load_the_training_libraries() -> None:
    """What gunicorn's arbiter preloads (every view, `config.gunicorn.when_ready`) is what each worker starts
    with. scikit-learn, scipy and pandas train suggestion models in the job worker only: in a web process they
    were 90 MB per worker, which once put every fresh worker over the memory limit and replaced it after each
    request."""
    result = run(
        "import sys, django; django.setup(); from django.urls import get_resolver; "
        "get_resolver().url_patterns; import annotations.suggestions.jobs; "
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'sklearn', 'scipy', 'pandas', 'joblib'}))",
        DJANGO_PRODUCTION="true",
        DATABASE_URL=POSTGRES,
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
