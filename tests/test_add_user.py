"""`manage.py add_user NAME --role ROLE`."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from debate.roles import Role, roles_of

pytestmark = pytest.mark.django_db


def add_user(*args: str) -> str:
    out = StringIO()
    call_command("add_user", *args, stdout=out)
    return out.getvalue()


def test_password_comes_from_the_environment_and_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBATE_PASSWORD", "a long enough secret")

    out = add_user("ann", "--role", "annotator")

    assert "secret" not in out
    assert "Created annotator ann." in out
    assert User.objects.get(username="ann").check_password("a long enough secret")
    assert roles_of(User.objects.get(username="ann")) == {Role.ANNOTATOR}


def test_without_the_environment_a_password_is_generated_and_printed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEBATE_PASSWORD", raising=False)

    out = add_user("rita", "--role", "researcher")

    (line,) = [line for line in out.splitlines() if line.startswith("Password (shown once): ")]
    password = line.removeprefix("Password (shown once): ")
    assert len(password) >= 16
    assert User.objects.get(username="rita").check_password(password)
    assert add_user("rob", "--role", "researcher") != out  # a new one each time


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_each_role_becomes_its_group(role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBATE_PASSWORD", "a long enough secret")

    add_user(f"user-{role}", "--role", role)

    user = User.objects.get(username=f"user-{role}")
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert (user.is_staff, user.is_superuser) == ((True, True) if role == "admin" else (False, False))


def test_an_existing_user_is_refused_unless_exists_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBATE_PASSWORD", "a long enough secret")
    add_user("cora", "--role", "curator")

    with pytest.raises(CommandError, match=r"^user 'cora' already exists$"):
        add_user("cora", "--role", "curator")
    monkeypatch.setenv("DEBATE_PASSWORD", "another secret entirely")
    out = add_user("cora", "--role", "admin", "--exists-ok")

    assert "already exists; left unchanged" in out
    assert User.objects.get(username="cora").check_password("a long enough secret")
    assert roles_of(User.objects.get(username="cora")) == {Role.CURATOR}


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(CommandError, match="invalid choice: 'boss'"):
        add_user("x", "--role", "boss")


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("u<img src=x onerror=alert(1)>", "is not a valid user name: Enter a valid username."),
        ("with space", "is not a valid user name: Enter a valid username."),
        ("x" * 151, "is not a valid user name: Ensure this value has at most 150 characters (it has 151)."),
    ],
    ids=["markup", "space", "too-long"],
)
def test_a_username_django_would_refuse_is_refused_in_one_line(
    username: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBATE_PASSWORD", "a long enough secret")

    with pytest.raises(CommandError) as refusal:
        add_user(username, "--role", "annotator")

    assert message in str(refusal.value)
    assert "\n" not in str(refusal.value)
    assert not User.objects.exists()


def test_a_bad_email_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBATE_PASSWORD", "a long enough secret")

    with pytest.raises(CommandError, match="'not-an-address' is not a valid email address: Enter a valid email"):
        add_user("eve", "--role", "annotator", "--email", "not-an-address")
    assert not User.objects.exists()


def test_the_command_exits_non_zero_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "add_user", "u<img>", "--role", "annotator"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DEBATE_PASSWORD": "a long enough secret"},
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: 'u<img>' is not a valid user name: Enter a valid username. This value may contain only "
        "letters, numbers, and @/./+/-/_ characters."
    ]
