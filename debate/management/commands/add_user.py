"""`manage.py add_user NAME --role ROLE`: create a user with one of the four roles."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from debate.roles import Role


class Command(BaseCommand):
    help = (
        "Create a user with a role. The password comes from the DEBATE_PASSWORD environment variable, "
        "or is generated and printed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.value for role in Role])
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--exists-ok", action="store_true", help="Succeed without changes if the user already exists."
        )

    def handle(self, *args: Any, username: str, role: str, email: str, exists_ok: bool, **options: Any) -> None:
        User = get_user_model()
        # The checks Django's own user creation makes (createsuperuser, the admin): letters, digits and
        # @/./+/-/_ only, at most 150 characters; and a valid address if one is given.
        for field, value, what in [(User.USERNAME_FIELD, username, "user name"), ("email", email, "email address")]:
            if not value:
                continue
            try:
                User._meta.get_field(field).clean(value, None)  # type: ignore[union-attr]
            except ValidationError as error:
                raise CommandError(f"{value!r} is not a valid {what}: {' '.join(error.messages)}") from None
        if User.objects.filter(username=username).exists():
            if exists_ok:
                self.stdout.write(f"User {username} already exists; left unchanged.")
                return
            raise CommandError(f"user {username!r} already exists")
        password = os.environ.get("DEBATE_PASSWORD") or secrets.token_urlsafe(12)
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
            if role == Role.ADMIN:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username}."))
        if not os.environ.get("DEBATE_PASSWORD"):
            self.stdout.write(f"Password (shown once): {password}")
